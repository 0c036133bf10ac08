package io.github.sisksse.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import io.github.sisksse.EventLogException;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.redis.RedisEventLog;
import redis.embedded.RedisServer;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Events published per second through the Redis event log from one instance: a registry with the Redis log (one
 * Lettuce connection, as Spring Boot configures it) on a redis-server of its own (from embedded-redis, without
 * persistence, on this machine), and {@code threads} threads calling {@code registry.send(identifier, data)} as
 * fast as they can for {@code seconds} seconds each, after a warm-up. Nobody is connected: this measures
 * publishing (encoding, the append's round trip, Redis) and the instance's tailing of the log, not delivery.
 * <p>
 * {@code java -jar benchmarks.jar redis-throughput [threads, a comma list: 1,8,32,64] [seconds: 10] [size: 200]}
 * <p>
 * Prints, per thread count, the sends completed per second, the CPU used by this JVM and by redis-server over the
 * run (in cores: 1.0 is one core busy the whole time), and the entries the log holds, which must equal the sends
 * (read back from Redis's position counter).
 */
final class RedisThroughput {

	private RedisThroughput() {
	}

	static void main(String[] args) throws Exception {
		List<Integer> threadCounts = new ArrayList<>();
		for (String count : ((args.length > 0) ? args[0] : "1,8,32,64").split(",")) {
			threadCounts.add(Integer.parseInt(count.trim()));
		}
		int seconds = (args.length > 1) ? Integer.parseInt(args[1]) : 10;
		int size = (args.length > 2) ? Integer.parseInt(args[2]) : 200;
		String data = "x".repeat(size);
		int port = LocalRedis.freePort();
		RedisServer server = LocalRedis.start(port);
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", port));
		factory.afterPropertiesSet();
		factory.start();
		try {
			long redisPid = redisPid();
			System.out.printf("redis-throughput: %s threads, %d s each, %d-byte events, java %s, %d cores%n",
					threadCounts, seconds, size, System.getProperty("java.version"),
					Runtime.getRuntime().availableProcessors());
			run(factory, 8, 3, data, redisPid, false); // warm-up
			System.out.println("| threads | sends/s | JVM CPU (cores) | redis-server CPU (cores) | failed | entries = sends |");
			System.out.println("| ---: | ---: | ---: | ---: | ---: | --- |");
			for (int threads : threadCounts) {
				run(factory, threads, seconds, data, redisPid, true);
			}
		}
		finally {
			factory.destroy();
			server.stop();
		}
	}

	private static void run(LettuceConnectionFactory factory, int threads, int seconds, String data, long redisPid,
			boolean print) throws Exception {
		try (RedisConnection connection = factory.getConnection()) {
			connection.serverCommands().flushAll();
		}
		RedisEventLog log = RedisEventLog.builder(factory).keyPrefix("bench").build();
		EventSourceRegistry registry = EventSourceRegistry.builder().pingEnabled(false).eventLog(log).build();
		AtomicLong sent = new AtomicLong();
		AtomicLong failed = new AtomicLong();
		CountDownLatch start = new CountDownLatch(1);
		long[] deadline = new long[1];
		List<Thread> workers = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			String identifier = "user-" + t;
			Thread worker = new Thread(() -> {
				try {
					start.await();
				}
				catch (InterruptedException ex) {
					return;
				}
				long mine = 0;
				while (System.nanoTime() < deadline[0]) {
					try {
						registry.send(identifier, data);
						mine++;
					}
					catch (EventLogException | IllegalStateException ex) {
						failed.incrementAndGet();
					}
				}
				sent.addAndGet(mine);
			}, "sender-" + t);
			worker.start();
			workers.add(worker);
		}
		long jvmCpu = ProcessCpu.ofThisJvm();
		long redisCpu = ProcessCpu.of(redisPid).total();
		long began = System.nanoTime();
		deadline[0] = began + seconds * 1_000_000_000L;
		start.countDown();
		for (Thread worker : workers) {
			worker.join();
		}
		long took = System.nanoTime() - began;
		double jvmCores = (ProcessCpu.ofThisJvm() - jvmCpu) / (double) took;
		double redisCores = (redisPid > 0) ? (ProcessCpu.of(redisPid).total() - redisCpu) / (double) took : Double.NaN;
		long entries;
		try (RedisConnection connection = factory.getConnection()) {
			byte[] position = connection.stringCommands().get("{bench}:position".getBytes());
			entries = (position != null) ? Long.parseLong(new String(position)) : 0;
		}
		((DisposableBean) registry).destroy();
		log.stop();
		if (print) {
			System.out.printf("| %d | %,.0f | %.2f | %.2f | %,d | %s |%n", threads, sent.get() * 1e9 / took,
					jvmCores, redisCores, failed.get(), (entries == sent.get()) ? "yes" : "no: " + entries
							+ " entries for " + sent.get() + " sends");
		}
	}

	/** The redis-server started by this JVM, or -1 where /proc cannot tell. */
	private static long redisPid() {
		return ProcessHandle.current()
			.descendants()
			.filter((process) -> process.info().command().orElse("").contains("redis-server"))
			.mapToLong(ProcessHandle::pid)
			.findFirst()
			.orElse(-1);
	}

}
