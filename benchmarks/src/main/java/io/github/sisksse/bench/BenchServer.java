package io.github.sisksse.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import io.github.sisksse.CloseReason;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceClosedEvent;
import io.github.sisksse.EventSourceRegistry;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.jetty.servlet.JettyServletWebServerFactory;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The server under test, started by {@link BenchmarkRunner} as a separate JVM, with {@code --bench.mode=starter}
 * (the library's {@link EventSourceRegistry}) or {@code --bench.mode=control} (a plain map of {@link SseEmitter}s,
 * sent to one by one). Stops by itself when the runner's process ends or after {@code bench.max-lifetime}.
 * <p>
 * Tomcat and Jetty are both on the class path; the runner picks one per JVM by excluding the other's web server
 * auto-configuration ({@code spring.autoconfigure.exclude}), so that each keeps its own {@code server.tomcat.*} or
 * {@code server.jetty.*} properties. {@code GET /hello} names the web server actually running.
 * <p>
 * The starter side can also share its log with other instances through Redis ({@code sisk.sse.broker=redis}, given
 * by the runner); {@code POST /send} and {@code POST /send-each} send to identified streams, wherever they are
 * connected.
 */
@SpringBootApplication
public class BenchServer {

	static void main(String[] args, long maxLifetimeSeconds) {
		startWatchdog(maxLifetimeSeconds);
		SpringApplication.run(BenchServer.class, args);
	}

	/**
	 * Exit when the parent (the runner) is gone, or after the maximum lifetime, whichever comes first.
	 */
	private static void startWatchdog(long maxLifetimeSeconds) {
		Thread watchdog = new Thread(() -> {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxLifetimeSeconds);
			ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
			while (System.nanoTime() < deadline) {
				if (parent != null && !parent.isAlive()) {
					break;
				}
				try {
					Thread.sleep(500);
				}
				catch (InterruptedException ex) {
					break;
				}
			}
			Runtime.getRuntime().halt(3);
		}, "bench-watchdog");
		watchdog.setDaemon(true);
		watchdog.start();
	}

	/**
	 * Tomcat connector properties given as {@code --bench.connector-properties=name=value,name=value}, for the
	 * settings that have no {@code server.tomcat.*} property, such as {@code socket.appReadBufSize}.
	 */
	@Bean
	WebServerFactoryCustomizer<TomcatServletWebServerFactory> benchConnectorProperties(
			@Value("${bench.connector-properties:}") String properties) {
		return (factory) -> factory.addConnectorCustomizers((connector) -> {
			for (String property : properties.split(",")) {
				int eq = property.indexOf('=');
				if (eq > 0 && !connector.setProperty(property.substring(0, eq).trim(), property.substring(eq + 1).trim())) {
					throw new IllegalArgumentException("Tomcat refused connector property " + property);
				}
			}
		});
	}

	/**
	 * The accept backlog of Jetty's connector ({@code bench.jetty.accept-queue-size}). Jetty's default of 0 leaves
	 * Java's backlog of 50, below Tomcat's {@code accept-count} of 100 and the load client's 128 connections in
	 * flight; Spring Boot has no property for it.
	 */
	@Bean
	WebServerFactoryCustomizer<JettyServletWebServerFactory> benchJettyAcceptQueue(
			@Value("${bench.jetty.accept-queue-size:100}") int acceptQueueSize) {
		return (factory) -> factory.addServerCustomizers((server) -> {
			for (Connector connector : server.getConnectors()) {
				if (connector instanceof ServerConnector serverConnector) {
					serverConnector.setAcceptQueueSize(acceptQueueSize);
				}
			}
		});
	}

	/** Padding shared by the events of one broadcast call; each event is "seq:" + padding. */
	static String padding(int size) {
		return "x".repeat(Math.max(0, size - 8));
	}

	@RestController
	static class CommonController {

		@Value("${bench.mode}")
		private String mode;

		private final LiveCount liveCount;

		private final WebServerApplicationContext context;

		private final CloseReasonCounter closeReasons;

		CommonController(LiveCount liveCount, WebServerApplicationContext context,
				ObjectProvider<CloseReasonCounter> closeReasons) {
			this.liveCount = liveCount;
			this.context = context;
			this.closeReasons = closeReasons.getIfAvailable();
		}

		/** "hello starter on JettyServletWebServer": the runner checks that the intended container answers. */
		@GetMapping("/hello")
		String hello() {
			return "hello " + this.mode + " on " + this.context.getWebServer().getClass().getSimpleName() + "\n";
		}

		/**
		 * Heap used (after {@code System.gc()} unless {@code gc=false}), live connections, live and peak JVM
		 * threads ({@code resetPeak=true} restarts the peak), and on the starter side the streams ended so far per
		 * group and close reason, as lines {@code closed.stuck.QUEUE_OVERFLOW=2}.
		 */
		@GetMapping("/stats")
		String stats(@RequestParam(defaultValue = "true") boolean gc,
				@RequestParam(defaultValue = "false") boolean resetPeak) throws InterruptedException {
			for (int i = 0; gc && i < 3; i++) {
				System.gc();
				Thread.sleep(200);
			}
			long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
			ThreadMXBean threads = ManagementFactory.getThreadMXBean();
			StringBuilder body = new StringBuilder();
			body.append("heap=").append(heap).append('\n');
			body.append("connections=").append(this.liveCount.get()).append('\n');
			body.append("threads=").append(threads.getThreadCount()).append('\n');
			body.append("peakThreads=").append(threads.getPeakThreadCount()).append('\n');
			if (resetPeak) {
				threads.resetPeakThreadCount();
			}
			if (this.closeReasons != null) {
				this.closeReasons.counts().forEach((key, count) -> body.append("closed.")
					.append(key)
					.append('=')
					.append(count)
					.append('\n'));
			}
			return body.toString();
		}

	}

	interface LiveCount {

		int get();

	}

	/** Starter side: the library's registry. */
	@RestController
	@ConditionalOnProperty(name = "bench.mode", havingValue = "starter")
	static class StarterController implements LiveCount {

		private final EventSourceRegistry registry;

		private final AtomicInteger sequence = new AtomicInteger();

		StarterController(EventSourceRegistry registry) {
			this.registry = registry;
		}

		@GetMapping("/sse")
		EventSource sse(@RequestParam String id) {
			return this.registry.open(id);
		}

		/**
		 * Broadcast {@code count} events; {@code callNanos} is the time spent inside {@code registry.broadcast},
		 * summed over the calls (with {@code count=1}, the one call).
		 */
		@PostMapping("/broadcast")
		String broadcast(@RequestParam(defaultValue = "1") int count, @RequestParam(defaultValue = "64") int size) {
			String pad = padding(size);
			long queued = 0;
			long callNanos = 0;
			for (int i = 0; i < count; i++) {
				String data = this.sequence.incrementAndGet() + ":" + pad;
				long start = System.nanoTime();
				queued += this.registry.broadcast(data);
				callNanos += System.nanoTime() - start;
			}
			return "queued=" + queued + "\ncallNanos=" + callNanos + "\n";
		}

		/**
		 * Send one event to the stream {@code id} with {@code registry.send}: data {@code <seq>:<padding>}, the
		 * sequence number given by the runner, since instances sharing a log do not share a counter.
		 */
		@PostMapping("/send")
		String send(@RequestParam String id, @RequestParam long seq, @RequestParam(defaultValue = "64") int size) {
			return "live=" + this.registry.send(id, seq + ":" + padding(size)) + "\n";
		}

		/**
		 * Send {@code count} events to each of the streams {@code prefix + i}, {@code i} from 0 to
		 * {@code streams - 1}, round by round: in round {@code r} (from 0), each stream is sent
		 * {@code (first + r):<padding>}. When the log refuses an entry because too many wait to be delivered, waits
		 * for it as a sender would (at most 60 s for one entry).
		 */
		@PostMapping("/send-each")
		String sendEach(@RequestParam String prefix, @RequestParam int streams, @RequestParam long first,
				@RequestParam(defaultValue = "1") int count, @RequestParam(defaultValue = "64") int size)
				throws InterruptedException {
			String pad = padding(size);
			long waits = 0;
			long start = System.nanoTime();
			for (int r = 0; r < count; r++) {
				String data = (first + r) + ":" + pad;
				for (int i = 0; i < streams; i++) {
					long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
					while (true) {
						try {
							this.registry.send(prefix + i, data);
							break;
						}
						catch (IllegalStateException ex) {
							if (System.nanoTime() > giveUp) {
								throw ex;
							}
							waits++;
							Thread.sleep(1);
						}
					}
				}
			}
			return "sent=" + ((long) count * streams) + "\nwaits=" + waits + "\ncallNanos="
					+ (System.nanoTime() - start) + "\n";
		}

		@Override
		public int get() {
			return this.registry.size();
		}

	}

	/** Control side: plain SseEmitter, the naive way (one send, i.e. one write and flush, per event per client). */
	@RestController
	@ConditionalOnProperty(name = "bench.mode", havingValue = "control")
	static class ControlController implements LiveCount {

		private final Map<String, SseEmitter> emitters = new ConcurrentHashMap<>();

		private final AtomicInteger sequence = new AtomicInteger();

		/**
		 * With {@code bench.control-threads} above 1 (the runner's {@code control-parallel} side), the send loop is
		 * split over that many threads, each sending to its share of the emitters: what a hand-written parallel
		 * loop over plain {@code SseEmitter}s can do on this machine.
		 */
		private final @Nullable ExecutorService senders;

		private final int threads;

		ControlController(@Value("${bench.control-threads:1}") int threads) {
			this.threads = Math.max(1, threads);
			this.senders = (this.threads > 1) ? Executors.newFixedThreadPool(this.threads, (task) -> {
				Thread thread = new Thread(task, "control-sender");
				thread.setDaemon(true);
				return thread;
			}) : null;
		}

		@GetMapping("/sse")
		SseEmitter sse(@RequestParam String id) throws IOException {
			SseEmitter emitter = new SseEmitter(-1L);
			this.emitters.put(id, emitter);
			emitter.onCompletion(() -> this.emitters.remove(id, emitter));
			emitter.onError((ex) -> this.emitters.remove(id, emitter));
			emitter.onTimeout(() -> this.emitters.remove(id, emitter));
			// For fairness with the starter, which writes a comment at open: headers go out at once.
			emitter.send(SseEmitter.event().comment(""));
			return emitter;
		}

		/**
		 * Send {@code count} events to every emitter; {@code callNanos} is the time spent in the send loops, the
		 * control's counterpart of the starter's {@code registry.broadcast}.
		 */
		@PostMapping("/broadcast")
		String broadcast(@RequestParam(defaultValue = "1") int count, @RequestParam(defaultValue = "64") int size) {
			String pad = padding(size);
			long sent = 0;
			long start = System.nanoTime();
			for (int i = 0; i < count; i++) {
				String data = this.sequence.incrementAndGet() + ":" + pad;
				sent += (this.senders != null) ? sendInParallel(this.senders, data) : send(this.emitters.entrySet(), data);
			}
			return "sent=" + sent + "\ncallNanos=" + (System.nanoTime() - start) + "\n";
		}

		private long send(Iterable<Map.Entry<String, SseEmitter>> targets, String data) {
			long sent = 0;
			for (Map.Entry<String, SseEmitter> entry : targets) {
				try {
					entry.getValue().send(data);
					sent++;
				}
				catch (IOException | IllegalStateException ex) {
					this.emitters.remove(entry.getKey(), entry.getValue());
				}
			}
			return sent;
		}

		private long sendInParallel(ExecutorService senders, String data) {
			List<Map.Entry<String, SseEmitter>> all = new ArrayList<>(this.emitters.entrySet());
			List<CompletableFuture<Long>> shares = new ArrayList<>();
			int size = (all.size() + this.threads - 1) / this.threads;
			for (int from = 0; from < all.size(); from += size) {
				List<Map.Entry<String, SseEmitter>> share = all.subList(from, Math.min(all.size(), from + size));
				shares.add(CompletableFuture.supplyAsync(() -> send(share, data), senders));
			}
			return shares.stream().mapToLong(CompletableFuture::join).sum();
		}

		@Override
		public int get() {
			return this.emitters.size();
		}

	}

	/**
	 * Starter side: counts ended sources per group and {@link CloseReason}, from the {@link EventSourceClosedEvent}s
	 * the starter publishes (so that no listener is added to the registry's write path). The group is
	 * {@code stuck} for the load client's never-reading connections (their identifiers contain {@code stuck-}),
	 * {@code healthy} otherwise.
	 */
	@Component
	@ConditionalOnProperty(name = "bench.mode", havingValue = "starter")
	static class CloseReasonCounter {

		private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

		@EventListener
		void onClose(EventSourceClosedEvent event) {
			String identifier = event.getEventSource().identifier();
			String group = (identifier != null && identifier.contains("stuck-")) ? "stuck" : "healthy";
			this.counts.computeIfAbsent(group + "." + event.getReason(), (key) -> new LongAdder()).increment();
		}

		Map<String, Long> counts() {
			Map<String, Long> snapshot = new TreeMap<>();
			this.counts.forEach((key, count) -> snapshot.put(key, count.sum()));
			return snapshot;
		}

	}

}
