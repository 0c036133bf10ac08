package io.github.sisksse;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.util.Assert;

/**
 * An {@link EventHistory} in this application's memory, bounded per stream by a number of events and an age.
 * Ids come from one counter that starts at the current time in microseconds, so they increase per stream and do
 * not repeat across restarts (unless more than a million ids a second were drawn on average). A stream whose
 * events have all expired still recognises its newest id for three more retention periods, so that a quiet
 * client that reconnects is told it missed nothing rather than to reload; then it is forgotten. Expired events
 * are swept at most every quarter of the retention, by whichever thread adds an event. Thread-safe: each stream
 * is guarded by its own monitor.
 */
public final class InMemoryEventHistory implements EventHistory {


	private final int maxEvents;

	private final Duration maxAge;

	private final Clock clock;

	private final AtomicLong ids;

	private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();

	private final AtomicLong lastSweep;

	/**
	 * Create a history.
	 * @param maxEvents how many events to keep per stream
	 * @param maxAge how long to keep an event
	 */
	public InMemoryEventHistory(int maxEvents, Duration maxAge) {
		this(maxEvents, maxAge, Clock.systemUTC());
	}

	/**
	 * Create a history with the given clock, for tests.
	 * @param maxEvents how many events to keep per stream
	 * @param maxAge how long to keep an event
	 * @param clock the clock that dates events
	 */
	public InMemoryEventHistory(int maxEvents, Duration maxAge, Clock clock) {
		Assert.isTrue(maxEvents > 0, "maxEvents must be positive");
		Assert.isTrue(!maxAge.isNegative() && !maxAge.isZero(), "maxAge must be positive");
		this.maxEvents = maxEvents;
		this.maxAge = maxAge;
		this.clock = clock;
		this.ids = new AtomicLong(clock.millis() * 1000);
		this.lastSweep = new AtomicLong(clock.millis());
	}

	@Override
	public long nextId(String stream) {
		return this.ids.incrementAndGet();
	}

	@Override
	public void add(String stream, StoredEvent event) {
		// Inside compute, so that a concurrent sweep cannot drop the stream between its lookup and this add.
		this.streams.compute(stream, (key, events) -> {
			Stream target = (events != null) ? events : new Stream();
			synchronized (target) {
				target.add(event, this.maxEvents);
			}
			return target;
		});
		long now = this.clock.millis();
		long last = this.lastSweep.get();
		if (now - last > this.maxAge.toMillis() / 4 && this.lastSweep.compareAndSet(last, now)) {
			sweep();
		}
	}

	@Override
	public Optional<List<StoredEvent>> after(String stream, String lastEventId) {
		Stream events = this.streams.get(stream);
		if (events == null) {
			return Optional.empty();
		}
		synchronized (events) {
			events.expire(oldest());
			return events.after(lastEventId);
		}
	}

	/**
	 * Forget expired events, and streams that have had none for three more retention periods.
	 */
	public void sweep() {
		Instant oldest = oldest();
		Instant forgotten = oldest.minus(this.maxAge.multipliedBy(3));
		for (String stream : this.streams.keySet()) {
			this.streams.computeIfPresent(stream, (key, events) -> {
				synchronized (events) {
					events.expire(oldest);
					return (events.isEmpty() && events.newestAt.isBefore(forgotten)) ? null : events;
				}
			});
		}
	}

	private Instant oldest() {
		return this.clock.instant().minus(this.maxAge);
	}

	/**
	 * The events of one stream, oldest first; guarded by its own monitor.
	 */
	private static final class Stream {

		private final ArrayDeque<StoredEvent> events = new ArrayDeque<>();

		private String newestId = "";

		private Instant newestAt = Instant.MIN;

		void add(StoredEvent event, int maxEvents) {
			this.events.addLast(event);
			this.newestId = event.id();
			this.newestAt = event.storedAt();
			while (this.events.size() > maxEvents) {
				this.events.removeFirst();
			}
		}

		void expire(Instant oldest) {
			while (!this.events.isEmpty() && this.events.peekFirst().storedAt().isBefore(oldest)) {
				this.events.removeFirst();
			}
		}

		boolean isEmpty() {
			return this.events.isEmpty();
		}

		Optional<List<StoredEvent>> after(String lastEventId) {
			List<StoredEvent> missed = new ArrayList<>();
			for (Iterator<StoredEvent> newestFirst = this.events.descendingIterator(); newestFirst.hasNext();) {
				StoredEvent event = newestFirst.next();
				if (event.id().equals(lastEventId)) {
					Collections.reverse(missed);
					return Optional.of(missed);
				}
				missed.add(event);
			}
			// The newest event expired, but nothing came after it: nothing was missed.
			return (missed.isEmpty() && lastEventId.equals(this.newestId)) ? Optional.of(List.of()) : Optional.empty();
		}

	}

}
