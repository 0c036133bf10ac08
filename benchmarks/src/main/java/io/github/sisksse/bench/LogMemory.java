package io.github.sisksse.bench;

import java.lang.management.ManagementFactory;
import java.time.Duration;

import io.github.sisksse.EventSourceRegistry;

/**
 * Heap held by the registry's kept log, with nobody connected: {@code streams} streams each sent {@code events}
 * events of {@code size} bytes ("per-stream sends"), then the same number of events broadcast to every stream
 * ("broadcasts"). Runs in this JVM, no server: {@code java -jar benchmarks.jar log-memory [streams] [events] [size]}.
 * The figure is the heap in use after a full collection, minus the same before, in this JVM (run it with a heap
 * large enough, e.g. {@code -Xmx4g}).
 */
final class LogMemory {

	private LogMemory() {
	}

	static void main(String[] args) throws Exception {
		int streams = (args.length > 0) ? Integer.parseInt(args[0]) : 10_000;
		int events = (args.length > 1) ? Integer.parseInt(args[1]) : 256;
		int size = (args.length > 2) ? Integer.parseInt(args[2]) : 64;
		String data = "x".repeat(size);
		System.out.printf("log-memory: %d streams x %d events of %d bytes, java %s%n", streams, events, size,
				System.getProperty("java.version"));
		measure("per-stream sends", streams, events, (registry) -> {
			for (int e = 0; e < events; e++) {
				for (int s = 0; s < streams; s++) {
					String stream = "user-" + s;
					send(() -> registry.send(stream, data));
				}
			}
		});
		measure("broadcasts", streams, events, (registry) -> {
			for (int e = 0; e < events; e++) {
				send(() -> registry.broadcast(data));
			}
		});
	}

	private static void measure(String name, int streams, int events, Workload workload) throws Exception {
		long before = usedAfterGc();
		EventSourceRegistry registry = EventSourceRegistry.builder()
			.pingEnabled(false)
			.replay(streams * events, 4L * 1024 * 1024 * 1024, Duration.ofHours(1), "sisk-reset")
			.build();
		long start = System.nanoTime();
		workload.run(registry);
		long took = System.nanoTime() - start;
		long after = usedAfterGc();
		System.out.printf("  %-18s %,d events sent in %,d ms; heap held %,d bytes (%.1f bytes per stream-event)%n",
				name, (long) streams * events, took / 1_000_000, after - before,
				(after - before) / ((double) streams * events));
		((org.springframework.beans.factory.DisposableBean) registry).destroy();
	}

	/** The log refuses more entries while too many wait for the dispatcher: wait for it, as a sender would. */
	private static void send(Runnable send) throws InterruptedException {
		while (true) {
			try {
				send.run();
				return;
			}
			catch (IllegalStateException ex) {
				Thread.sleep(1);
			}
		}
	}

	private static long usedAfterGc() throws InterruptedException {
		for (int i = 0; i < 3; i++) {
			System.gc();
			Thread.sleep(200);
		}
		return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
	}

	private interface Workload {

		void run(EventSourceRegistry registry) throws Exception;

	}

}
