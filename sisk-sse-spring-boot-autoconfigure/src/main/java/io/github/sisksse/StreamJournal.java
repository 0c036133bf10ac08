package io.github.sisksse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

/**
 * The replay side of the registry: the {@link EventHistory} of identified streams, the locks that make recording
 * an event and delivering it atomic with a reconnect's replay, and the streams whose client left recently (which
 * broadcasts keep feeding for the replay window).
 * <p>
 * <b>Thread safety.</b> Streams are spread over a fixed set of {@link ReentrantLock}s, so the number of locks stays
 * bounded whatever the number of identifiers; the history is called under a stream's lock. The departed map is
 * concurrent, and emptied of streams older than the window on every broadcast and whenever it grows past 4096.
 */
final class StreamJournal {

	private static final int LOCKS = 256;

	private static final int DEPARTED_SWEEP_SIZE = 4096;

	private final EventHistory history;

	private final long windowNanos;

	private final Lock[] locks = new Lock[LOCKS];

	private final ConcurrentHashMap<String, Long> departed = new ConcurrentHashMap<>();

	StreamJournal(EventHistory history, Duration window) {
		this.history = history;
		this.windowNanos = window.toNanos();
		for (int i = 0; i < LOCKS; i++) {
			this.locks[i] = new ReentrantLock();
		}
	}

	Lock lock(String identifier) {
		return this.locks[(identifier.hashCode() & 0x7fffffff) % LOCKS];
	}

	/**
	 * Record an event; call under the stream's lock.
	 * @param ownId the application's id, if any; otherwise the history numbers the event
	 */
	StoredEvent record(String identifier, @Nullable String ownId, byte[] event) {
		String id = (ownId != null) ? ownId : Long.toString(this.history.nextId(identifier));
		StoredEvent stored = new StoredEvent(id, ownId == null, event, Instant.now());
		this.history.add(identifier, stored);
		return stored;
	}

	/**
	 * Return the events after the given id; call under the stream's lock.
	 * @return the events, or empty if the id is no longer (or never was) in the history
	 */
	Optional<List<StoredEvent>> after(String identifier, String lastEventId) {
		return this.history.after(identifier, lastEventId);
	}

	void arrived(String identifier) {
		this.departed.remove(identifier);
	}

	/**
	 * The last source of the stream ended: broadcasts keep reaching its history for the replay window.
	 */
	void departed(String identifier) {
		this.departed.put(identifier, System.nanoTime());
		if (this.departed.size() > DEPARTED_SWEEP_SIZE) {
			forgetDeparted();
		}
	}

	/**
	 * Return the streams whose client left within the replay window.
	 */
	Set<String> departedStreams() {
		forgetDeparted();
		return this.departed.keySet();
	}

	private void forgetDeparted() {
		long oldest = System.nanoTime() - this.windowNanos;
		this.departed.values().removeIf((departedAt) -> departedAt - oldest < 0);
	}

}
