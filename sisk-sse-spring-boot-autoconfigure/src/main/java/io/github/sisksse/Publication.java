package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

/**
 * One entry of the {@link PublicationLog}, this instance's copy of the {@link EventLog}: an event, encoded once,
 * with the connections it is meant for and its position in the log. Immutable; the arrays are never modified, so
 * one entry is shared by every connection it reaches and by every replay.
 *
 * @param seq the entry's place in this instance's copy: consecutive, starting at 1, across epochs
 * @param generation which epoch of the log it belongs to, counted by this instance from 1
 * @param position the entry's position in the log, within its epoch
 * @param epoch the log's epoch (see {@link EventLog.Reader#epoch}), shared by the entries of one generation
 * @param ownId the application's id, if it gave one
 * @param frame the encoded event
 * @param target the connections it is meant for
 * @param storedAtNanos when it was appended ({@link System#nanoTime()})
 */
record Publication(long seq, int generation, long position, String epoch, @Nullable String ownId, byte[] frame, Target target,
		long storedAtNanos) {

	/**
	 * Return the {@code id:} line that carries the epoch and position on the wire, made anew on each call (so that
	 * the kept log does not hold one per entry): call it once per delivery or replay.
	 * @return the line, or {@code null} when the application gave the event an id of its own (then in the frame)
	 */
	byte @Nullable [] idLine() {
		return (this.ownId != null) ? null
				: ("id: " + wireId(this.epoch, this.position) + "\n").getBytes(StandardCharsets.US_ASCII);
	}

	/**
	 * Return how a position of an epoch is written on the wire, and reported back in {@code Last-Event-ID}.
	 */
	static String wireId(String epoch, long position) {
		return epoch + "-" + position;
	}

	/**
	 * Return the bytes this entry holds, for the log's byte bound.
	 */
	long size() {
		return this.frame.length + 64L;
	}

	/**
	 * The connections a publication is meant for, decoded from an {@link EventLog.Entry#target()} by
	 * {@link Targets}.
	 */
	sealed interface Target {

		/**
		 * Whether a connection of this stream that joins the log after this publication was sent is owed it: a
		 * client that reconnects, or a connection that opened while it was on its way.
		 * @param source the joining connection
		 * @param identifier its stream's identifier
		 * @param siblings whether a stream may have several connections at once
		 * ({@link DuplicateIdentifierPolicy#ALLOW}), so that what one of them was sent is not the stream's
		 */
		default boolean replaysTo(DefaultEventSource source, String identifier, boolean siblings) {
			return includes(identifier);
		}

		/**
		 * Whether the connections of this stream receive it live (a {@link Connection} target names its own).
		 */
		boolean includes(String identifier);

	}

	/**
	 * Every connection, anonymous ones included.
	 */
	record All() implements Target {

		@Override
		public boolean includes(String identifier) {
			return true;
		}

	}

	/**
	 * The connections of one stream.
	 */
	record Stream(String identifier) implements Target {

		@Override
		public boolean includes(String identifier) {
			return this.identifier.equals(identifier);
		}

	}

	/**
	 * The streams whose identifier starts with a prefix: a group that any instance can evaluate.
	 */
	record Prefix(String prefix) implements Target {

		@Override
		public boolean includes(String identifier) {
			return identifier.startsWith(this.prefix);
		}

	}

	/**
	 * The streams whose identifier an application predicate accepts: evaluated in this instance only.
	 */
	record Matching(Predicate<String> identifierMatcher) implements Target {

		@Override
		public boolean includes(String identifier) {
			return this.identifierMatcher.test(identifier);
		}

	}

	/**
	 * One connection, from {@link EventSource#send(Object)}: this instance's, named by its
	 * {@link DefaultEventSource#serial() serial} (not held, so that the log keeps no connection alive), or another
	 * instance's (serial 0). A stream that has one connection at a time replays it to the connection that replaces
	 * it, on whichever instance; with siblings, it belongs to that connection alone.
	 */
	record Connection(long serial, String identifier) implements Target {

		@Override
		public boolean replaysTo(DefaultEventSource source, String identifier, boolean siblings) {
			return (this.serial != 0 && source.serial() == this.serial)
					|| (!siblings && !this.identifier.isEmpty() && identifier.equals(this.identifier));
		}

		@Override
		public boolean includes(String identifier) {
			return false;
		}

	}

	/**
	 * Not an event: the application closed this instance's connection with this serial (or another instance's:
	 * serial 0), which ends once the entries before are delivered.
	 */
	record Closing(long serial) implements Target {

		@Override
		public boolean includes(String identifier) {
			return false;
		}

	}

	/**
	 * Streams matched by a predicate that only another instance knows: nothing here.
	 */
	record Elsewhere() implements Target {

		@Override
		public boolean includes(String identifier) {
			return false;
		}

	}

}
