# Ruby: threads, a TCP server, digests, fork.
WORKLOAD=ruby
. /workloads/lib.sh
ruby -rsocket -rdigest -e '
srv = TCPServer.new("127.0.0.1", 0)
port = srv.addr[1]
t = Thread.new { 10.times { c = srv.accept; c.write(Digest::SHA256.hexdigest(c.gets)); c.close } }
10.times.map { |i| Thread.new { s = TCPSocket.new("127.0.0.1", port); s.puts("m#{i}"); d = s.read; s.close; raise "digest" unless d == Digest::SHA256.hexdigest("m#{i}\n") } }.each(&:join)
t.join
pid = fork { exit!(7) }
Process.wait(pid)
raise "fork" unless $?.exitstatus == 7
puts "ruby: ok #{RUBY_VERSION}"
'
