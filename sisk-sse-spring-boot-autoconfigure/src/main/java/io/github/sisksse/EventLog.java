package io.github.sisksse;

import java.util.Map;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * The ordered log of publications that a registry's senders write to and its connections are fed from: the seam
 * between one application instance and a cluster of them. Every send, group send, broadcast and close becomes one
 * {@link Entry}; the log gives it the next position and feeds every instance's {@link Reader}, this one's
 * included, all entries in the same order. A client's {@code Last-Event-ID} is a position in the log, so that it
 * can resume on whichever instance it reconnects to.
 * <p>
 * The registry uses a log of its own in this application's memory unless it is given one, such as the Redis
 * log that Spring Boot configures with {@code sisk.sse.broker=redis}.
 * <p>
 * Implementations are thread-safe: {@link #append} is called from any thread, at any time after
 * {@link #start}.
 */
public interface EventLog {

	/**
	 * Start feeding the reader: first the {@link Reader#epoch epoch}, then the entries the log still holds, oldest
	 * first, then every new one, in order, until {@link #stop()}. Called once, before any append.
	 * @param reader the registry's reader
	 * @param presence this instance's identified connections, identifier to count, for a log shared by several
	 * instances to tell the others (see {@link #presence()}); a snapshot on each call
	 */
	void start(Reader reader, Supplier<Map<String, Integer>> presence);

	/**
	 * Append an entry, which reaches every reader in log order. Returns once the entry is in the log (it may not
	 * have reached the readers yet).
	 * @param entry the entry
	 * @throws EventLogException if the log cannot take it: it was not appended
	 */
	void append(Entry entry);

	/**
	 * Return the identified connections of the other instances sharing this log, identifier to count, as they
	 * last reported them: a few seconds old at most, and without an instance that stopped reporting.
	 * @return the other instances' connections; empty for a log of one instance
	 */
	default Map<String, Integer> presence() {
		return Map.of();
	}

	/**
	 * Stop feeding the reader and release what the log holds. Called once, when the registry is destroyed.
	 */
	void stop();

	/**
	 * One publication, as it travels through the log.
	 *
	 * @param target who it is for, one of: {@code *} (every connection), {@code s:<identifier>} (a stream),
	 * {@code p:<prefix>} (the streams with that identifier prefix), {@code c:<instance>:<connection>:<identifier>}
	 * (one connection, sent through {@link EventSource#send(Object)}; the identifier is empty for an anonymous
	 * one), {@code x:<instance>:<connection>} (that connection's close), {@code m:<instance>:<token>} (streams
	 * matched by a predicate that only its instance knows); the instance and connection parts are opaque
	 * @param ownId the application's own event id, if it gave one (it is also in the frame)
	 * @param frame the event, encoded as {@code text/event-stream} without its {@code id:} line; empty for a close
	 */
	record Entry(String target, @Nullable String ownId, byte[] frame) {
	}

	/**
	 * What a registry gives a log to be fed with. Its methods are called by one thread at a time, in log order.
	 */
	interface Reader {

		/**
		 * The log's epoch: called before the first entry, and again whenever the log's history was lost (its store
		 * was flushed or replaced), after which positions start again. A client reporting a position of another
		 * epoch is sent the reset event.
		 * @param epoch a short name for this history, without {@code -}, CR or LF
		 */
		void epoch(String epoch);

		/**
		 * The next entry of the current epoch. Positions increase by one from entry to entry, unless the log
		 * forgot entries before the reader could read them: a client whose position falls in such a gap is sent
		 * the reset event.
		 * @param position the entry's position, from 1
		 * @param entry the entry
		 * @throws IllegalStateException if the registry cannot take more entries now (too many wait to be
		 * delivered): nothing was taken, and the entry must be offered again later
		 */
		void entry(long position, Entry entry);

	}

}
