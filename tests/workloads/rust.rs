// Rust: threads, TCP on loopback, files, a child process.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local address");
    let server = thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let mut stream = stream.expect("accept");
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).expect("read");
            stream.write_all(line.to_uppercase().as_bytes()).expect("write");
        }
    });
    let clients: Vec<_> = (0..16)
        .map(|i| {
            thread::spawn(move || {
                let mut c = TcpStream::connect(addr).expect("connect");
                c.write_all(format!("message {i}\n").as_bytes()).expect("send");
                let mut got = String::new();
                c.read_to_string(&mut got).expect("receive");
                assert_eq!(got, format!("MESSAGE {i}\n"));
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    server.join().expect("server thread");
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7) as u8).collect();
    std::fs::write("/tmp/rust-data", &data).expect("write file");
    assert_eq!(std::fs::read("/tmp/rust-data").expect("read file"), data);
    let out = Command::new("/bin/echo").arg("child").output().expect("child");
    assert_eq!(out.stdout, b"child\n");
    println!("rust: ok threads+tcp");
}
