package io.github.sisksse.micrometer;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.sisksse.CloseReason;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer meters of the event source registry. Tags never carry identifiers, to keep cardinality low. Meters
 * are registered when Spring Boot binds this to the application's {@link MeterRegistry}; until then callbacks
 * only update the live-connection count.
 */
public final class EventSourceMetrics implements EventSourceListener, MeterBinder {

	private final AtomicInteger live = new AtomicInteger();

	private volatile @Nullable Meters meters;

	/**
	 * Create the meters' listener; register it with the registry and bind it to a {@link MeterRegistry}.
	 */
	public EventSourceMetrics() {
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("sisk.sse.connections", this.live, AtomicInteger::get)
			.description("Open event source connections")
			.register(registry);
		this.meters = new Meters(registry);
	}

	@Override
	public void onOpen(EventSource source) {
		this.live.incrementAndGet();
		Meters current = this.meters;
		if (current != null) {
			current.opened.increment();
		}
	}

	@Override
	public void onClose(EventSource source, CloseReason reason) {
		this.live.decrementAndGet();
		Meters current = this.meters;
		if (current != null) {
			current.closed.get(reason).increment();
		}
	}

	@Override
	public void onWrite(EventSource source, int events, int bytes) {
		Meters current = this.meters;
		if (current != null) {
			current.events.increment(events);
			current.bytes.increment(bytes);
		}
	}

	@Override
	public void onPing(EventSource source) {
		Meters current = this.meters;
		if (current != null) {
			current.pings.increment();
		}
	}

	@Override
	public void onReplay(EventSource source, String lastEventId, int replayed) {
		Meters current = this.meters;
		if (current != null) {
			((replayed >= 0) ? current.replayHits : current.replayMisses).increment();
		}
	}

	@Override
	public void onWriteFailure(EventSource source, Throwable failure) {
		Meters current = this.meters;
		if (current != null) {
			current.failedWrites.increment();
		}
	}

	@Override
	public void onOverflow(EventSource source) {
		Meters current = this.meters;
		if (current != null) {
			current.overflows.increment();
		}
	}

	private static final class Meters {

		final Counter opened;

		final Map<CloseReason, Counter> closed = new EnumMap<>(CloseReason.class);

		final Counter events;

		final Counter bytes;

		final Counter pings;

		final Counter failedWrites;

		final Counter overflows;

		final Counter replayHits;

		final Counter replayMisses;

		Meters(MeterRegistry registry) {
			this.opened = Counter.builder("sisk.sse.connections.opened")
				.description("Event source connections opened")
				.register(registry);
			for (CloseReason reason : CloseReason.values()) {
				this.closed.put(reason, Counter.builder("sisk.sse.connections.closed")
					.description("Event source connections ended, by reason")
					.tag("reason", reason.name().toLowerCase(java.util.Locale.ROOT))
					.register(registry));
			}
			this.events = Counter.builder("sisk.sse.events.written")
				.description("Events written to clients")
				.register(registry);
			this.bytes = Counter.builder("sisk.sse.bytes.written")
				.description("Bytes written to clients")
				.baseUnit("bytes")
				.register(registry);
			this.pings = Counter.builder("sisk.sse.pings").description("Pings written to clients").register(registry);
			this.failedWrites = Counter.builder("sisk.sse.writes.failed")
				.description("Writes to clients that failed")
				.register(registry);
			this.overflows = Counter.builder("sisk.sse.queue.overflows")
				.description("Events that did not fit in a connection's queue")
				.register(registry);
			this.replayHits = Counter.builder("sisk.sse.replay.hits")
				.description("Reconnections whose missed events were replayed")
				.register(registry);
			this.replayMisses = Counter.builder("sisk.sse.replay.misses")
				.description("Reconnections whose last event id was not in the history (reset sent)")
				.register(registry);
		}

	}

}
