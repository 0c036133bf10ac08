package io.github.sisksse;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;

/**
 * The sending side of the registry: encodes an event once, numbers it (by each source, or by the stream's history
 * with replay), and queues it for every source it is meant for, settling the offers once every lock is released.
 * <p>
 * <b>Thread safety.</b> Stateless but for the thread-safe parts it is given. With replay, a stream's lock (from the
 * {@link StreamJournal}) makes recording an event and queueing it for the stream's sources atomic with a source of
 * that stream opening with a replay; sources are ended, and listeners run, only after that lock is released.
 */
final class Publisher {

	private final EventEncoder encoder;

	private final SourceIndex index;

	private final @Nullable StreamJournal journal;

	private final WriterPool writers;

	Publisher(EventEncoder encoder, SourceIndex index, @Nullable StreamJournal journal, WriterPool writers) {
		this.encoder = encoder;
		this.index = index;
		this.journal = journal;
		this.writers = writers;
	}

	/**
	 * Send from one source, as {@link EventSource#send(Object)}.
	 */
	boolean sendFrom(DefaultEventSource source, Object data) {
		byte[] event = this.encoder.encode(data);
		String ownId = ownId(data);
		String identifier = source.identifier();
		if (identifier == null || this.journal == null) {
			return source.offer(localIdUnless(ownId), event, true);
		}
		DefaultEventSource.Offer offer;
		Lock stream = this.journal.lock(identifier);
		stream.lock();
		try {
			// A source just replaced may still be open for a moment, and an event recorded for it now would reach
			// neither it (ending) nor its successor (already replayed).
			if (!this.index.sources(identifier).contains(source)) {
				return false;
			}
			offer = source.enqueue(this.journal.record(identifier, ownId, event).idLine(), event, true);
		}
		finally {
			stream.unlock();
		}
		return source.settle(offer);
	}

	/**
	 * Send to a stream, as {@link EventSourceRegistry#send(String, Object)}.
	 */
	int send(String identifier, Object data) {
		return sendToStream(identifier, ownId(data), this.encoder.encode(data));
	}

	/**
	 * Record an event in the stream's history, if any, and queue it for the stream's live sources, atomically
	 * with respect to a source of the stream opening with a replay.
	 */
	private int sendToStream(String identifier, @Nullable String ownId, byte[] event) {
		Deliveries deliveries = new Deliveries();
		try {
			sendToStream(identifier, ownId, event, deliveries);
		}
		finally {
			deliveries.settle(this.writers);
		}
		return deliveries.queued();
	}

	private void sendToStream(String identifier, @Nullable String ownId, byte[] event, Deliveries deliveries) {
		if (this.journal == null) {
			byte[] idLine = localIdUnless(ownId);
			for (DefaultEventSource source : this.index.sources(identifier)) {
				deliveries.offer(source, idLine, event);
			}
			return;
		}
		Lock stream = this.journal.lock(identifier);
		stream.lock();
		try {
			byte[] idLine = this.journal.record(identifier, ownId, event).idLine();
			for (DefaultEventSource source : this.index.sources(identifier)) {
				// Settled after the lock is released: ending an overflowing source runs listeners and callbacks.
				deliveries.offer(source, idLine, event);
			}
		}
		finally {
			stream.unlock();
		}
	}

	/**
	 * Send to every source, as {@link EventSourceRegistry#broadcast(Object)}.
	 */
	int broadcast(Object data) {
		return broadcast(data, (identifier) -> true, true);
	}

	/**
	 * Send to the matching streams, as {@link EventSourceRegistry#broadcast(Object, Predicate)}.
	 */
	int broadcast(Object data, Predicate<String> identifierMatcher) {
		return broadcast(data, identifierMatcher, false);
	}

	/**
	 * Send to every matching source: encoded once, then one O(1) enqueue per source. With replay, each stream is
	 * recorded, and so are those whose client is between two connections within the replay window.
	 */
	private int broadcast(Object data, Predicate<String> identifierMatcher, boolean anonymousToo) {
		byte[] event = this.encoder.encode(data);
		String ownId = ownId(data);
		byte[] idLine = localIdUnless(ownId);
		Deliveries deliveries = new Deliveries();
		Set<String> fed = new HashSet<>();
		int queued;
		// Settled whatever happens, or the sources whose writer role it took would never be written again.
		try {
			if (this.journal == null) {
				this.index.forEach(identifierMatcher, anonymousToo, (source) -> deliveries.offer(source, idLine, event));
			}
			else {
				if (anonymousToo) {
					this.index.forEach((identifier) -> false, true, (source) -> deliveries.offer(source, idLine, event));
				}
				for (String identifier : this.index.identifiers()) {
					if (identifierMatcher.test(identifier)) {
						sendToStream(identifier, ownId, event, deliveries);
						fed.add(identifier);
						// History calls may be slow: do not keep the sources queued so far from their writers.
						deliveries.settleIfMany(this.writers);
					}
				}
			}
		}
		finally {
			queued = deliveries.settle(this.writers);
		}
		if (this.journal != null) {
			// Streams whose client is between two connections, including those that left while the live ones were
			// fed: each recorded once (a stream that came back meanwhile gets the event live, under its lock).
			Deliveries departed = new Deliveries();
			try {
				for (String identifier : this.journal.departedStreams()) {
					if (!fed.contains(identifier) && identifierMatcher.test(identifier)) {
						sendToStream(identifier, ownId, event, departed);
					}
				}
			}
			finally {
				departed.settle(this.writers);
			}
		}
		return queued;
	}

	private static byte @Nullable [] localIdUnless(@Nullable String ownId) {
		return (ownId != null) ? null : DefaultEventSource.LOCAL_ID;
	}

	private static @Nullable String ownId(Object data) {
		return (data instanceof ServerSentEvent<?> event) ? event.id() : null;
	}

}
