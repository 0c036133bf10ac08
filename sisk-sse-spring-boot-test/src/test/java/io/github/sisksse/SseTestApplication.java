package io.github.sisksse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The application the behaviour tests talk to over HTTP.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class SseTestApplication {

	/**
	 * Records the registry's application events, in order.
	 */
	@Component
	static class EventRecorder {

		final List<ApplicationEvent> events = new CopyOnWriteArrayList<>();

		@EventListener
		void opened(EventSourceOpenedEvent event) {
			this.events.add(event);
		}

		@EventListener
		void closed(EventSourceClosedEvent event) {
			this.events.add(event);
		}

	}

	/**
	 * Counts, per stream, the events dropped to make room ({@code drop-oldest}) or refused ({@code close}).
	 */
	@Component
	static class OverflowCounter implements EventSourceListener {

		final Map<String, java.util.concurrent.atomic.AtomicInteger> overflows = new ConcurrentHashMap<>();

		@Override
		public void onOverflow(EventSource source) {
			if (source.identifier() != null) {
				this.overflows.computeIfAbsent(source.identifier(), (id) -> new java.util.concurrent.atomic.AtomicInteger())
					.incrementAndGet();
			}
		}

		int of(String identifier) {
			java.util.concurrent.atomic.AtomicInteger count = this.overflows.get(identifier);
			return (count != null) ? count.get() : 0;
		}

	}

	@RestController
	static class StreamController {

		final Map<String, EventSource> anonymous = new ConcurrentHashMap<>();

		final Map<String, RuntimeException> failures = new ConcurrentHashMap<>();

		private final EventSourceRegistry registry;

		private final OverflowCounter overflows;

		StreamController(EventSourceRegistry registry, OverflowCounter overflows) {
			this.registry = registry;
			this.overflows = overflows;
		}

		@GetMapping("/open")
		EventSource open(@RequestParam(required = false) String id, @RequestParam(required = false) String tag) {
			if (id != null) {
				return this.registry.open(id);
			}
			EventSource source = this.registry.open();
			if (tag != null) {
				this.anonymous.put(tag, source);
			}
			return source;
		}

		@GetMapping("/emitter")
		SseEmitter emitter(@RequestParam String id) {
			return this.registry.open(id).emitter();
		}

		final Map<String, List<Boolean>> accepted = new ConcurrentHashMap<>();

		/**
		 * Sends events before returning, so they wait in the queue until the response starts.
		 */
		@GetMapping("/burst")
		EventSource burst(@RequestParam String id, @RequestParam int count) {
			EventSource source = this.registry.open(id);
			List<Boolean> results = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				results.add(source.send("e" + i));
			}
			this.accepted.put(id, results);
			// Sends are delivered to the source's queue asynchronously: return it (and so let the writer start)
			// only once every accepted one is queued or dropped, or the source closed on overflow.
			long sent = results.stream().filter((accepted) -> accepted).count();
			org.awaitility.Awaitility.await()
				.atMost(java.time.Duration.ofSeconds(5))
				.until(() -> !source.isOpen() || source.info().queuedEvents() + this.overflows.of(id) >= sent);
			return source;
		}

		@GetMapping("/open-and-fail")
		EventSource openAndFail(@RequestParam String id) {
			this.registry.open(id);
			throw new IllegalStateException("the handler failed after opening " + id);
		}

		@GetMapping("/hello")
		SseEmitter hello() {
			EventSource sse = this.registry.open();
			sse.send("Hello, world!");
			return sse.close();
		}

		@GetMapping("/entity")
		org.springframework.http.ResponseEntity<EventSource> entity(@RequestParam String id) {
			return org.springframework.http.ResponseEntity.status(org.springframework.http.HttpStatus.ACCEPTED)
				.header("X-Entity", "yes")
				.body(this.registry.open(id));
		}

		@GetMapping("/headers")
		EventSource headers() {
			return this.registry.open().header("Header-Key", "Header-value").header("Cache-Control", "no-store");
		}

		@GetMapping("/header-after-send")
		EventSource headerAfterSend(@RequestParam String id) {
			EventSource sse = this.registry.open(id);
			sse.send("first");
			try {
				sse.header("Too-Late", "yes");
			}
			catch (RuntimeException ex) {
				this.failures.put(id, ex);
			}
			return sse;
		}

	}

}
