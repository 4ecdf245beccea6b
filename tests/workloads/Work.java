// A JVM doing real work: a thread pool, TCP on loopback, SHA-256, files, a child process.
import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.security.MessageDigest;
import java.util.*;
import java.util.concurrent.*;

public class Work {
    public static void main(String[] args) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    Socket s = server.accept();
                    pool.submit(() -> {
                        try (s) {
                            String line = new BufferedReader(new InputStreamReader(s.getInputStream())).readLine();
                            s.getOutputStream().write((sha256(line.getBytes()) + "\n").getBytes());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        return null;
                    });
                }
            } catch (IOException closed) {
                // the server socket was closed: done
            }
        });
        acceptor.start();
        List<Future<Boolean>> checks = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            final String msg = "message " + i;
            checks.add(clients.submit(() -> {
                try (Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                    c.getOutputStream().write((msg + "\n").getBytes());
                    String got = new BufferedReader(new InputStreamReader(c.getInputStream())).readLine();
                    return got.equals(sha256(msg.getBytes()));
                }
            }));
        }
        for (Future<Boolean> f : checks) {
            if (!f.get(60, TimeUnit.SECONDS)) throw new AssertionError("wrong digest");
        }
        server.close();
        acceptor.join();
        pool.shutdown();
        clients.shutdown();

        Path dir = Files.createTempDirectory("work");
        byte[] data = new byte[1 << 20];
        new Random(1).nextBytes(data);
        Path f = Files.write(dir.resolve("data"), data);
        if (!Arrays.equals(Files.readAllBytes(f), data)) throw new AssertionError("file");

        Process p = new ProcessBuilder("/bin/echo", "child").start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0 || !out.equals("child\n")) throw new AssertionError("child: " + out);
        System.out.println("java: ok " + System.getProperty("java.version")
                + " cpus=" + Runtime.getRuntime().availableProcessors());
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
