package io.github.sisksse.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The server under test, started by {@link BenchmarkRunner} as a separate JVM, with {@code --bench.mode=starter}
 * (the library's {@link EventSourceRegistry}) or {@code --bench.mode=control} (a plain map of {@link SseEmitter}s,
 * sent to one by one). Stops by itself when the runner's process ends or after {@code bench.max-lifetime}.
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

	/** Padding shared by the events of one broadcast call; each event is "seq:" + padding. */
	static String padding(int size) {
		return "x".repeat(Math.max(0, size - 8));
	}

	@RestController
	static class CommonController {

		@Value("${bench.mode}")
		private String mode;

		private final LiveCount liveCount;

		CommonController(LiveCount liveCount) {
			this.liveCount = liveCount;
		}

		@GetMapping("/hello")
		String hello() {
			return "hello " + this.mode + "\n";
		}

		@GetMapping("/stats")
		String stats(@RequestParam(defaultValue = "true") boolean gc) throws InterruptedException {
			for (int i = 0; gc && i < 3; i++) {
				System.gc();
				Thread.sleep(200);
			}
			long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
			return "heap=" + heap + "\nconnections=" + this.liveCount.get() + "\nthreads="
					+ Thread.activeCount() + "\n";
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

		@PostMapping("/broadcast")
		String broadcast(@RequestParam(defaultValue = "1") int count, @RequestParam(defaultValue = "64") int size) {
			String pad = padding(size);
			long queued = 0;
			for (int i = 0; i < count; i++) {
				queued += this.registry.broadcast(this.sequence.incrementAndGet() + ":" + pad);
			}
			return "queued=" + queued + "\n";
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

		@PostMapping("/broadcast")
		String broadcast(@RequestParam(defaultValue = "1") int count, @RequestParam(defaultValue = "64") int size) {
			String pad = padding(size);
			long sent = 0;
			for (int i = 0; i < count; i++) {
				String data = this.sequence.incrementAndGet() + ":" + pad;
				for (Map.Entry<String, SseEmitter> entry : this.emitters.entrySet()) {
					try {
						entry.getValue().send(data);
						sent++;
					}
					catch (IOException | IllegalStateException ex) {
						this.emitters.remove(entry.getKey(), entry.getValue());
					}
				}
			}
			return "sent=" + sent + "\n";
		}

		@Override
		public int get() {
			return this.emitters.size();
		}

	}

}
