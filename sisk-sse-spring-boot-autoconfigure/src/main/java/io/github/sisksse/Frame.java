package io.github.sisksse;

import org.jspecify.annotations.Nullable;

/**
 * One unit of the outbound queue: the encoded bytes of an event, ping or control line, preceded on the wire by
 * its {@code id:} line, if any. Immutable, and the arrays are never modified, so one encoded event and its id
 * line are shared by every connection it is queued for.
 *
 * @param idLine the {@code id:} line to write first, if any
 * @param bytes the encoded frame
 * @param kind what the frame is, which decides how the queue bounds and counts it
 */
record Frame(byte @Nullable [] idLine, byte[] bytes, Kind kind) {

	static Frame control(byte[] bytes) {
		return new Frame(null, bytes, Kind.CONTROL);
	}

	/**
	 * Return the number of bytes this frame takes on the wire.
	 */
	int length() {
		return this.bytes.length + ((this.idLine != null) ? this.idLine.length : 0);
	}

	/**
	 * Copy this frame's wire bytes into the target at the offset.
	 * @return the offset after it
	 */
	int writeTo(byte[] target, int offset) {
		int at = offset;
		if (this.idLine != null) {
			System.arraycopy(this.idLine, 0, target, at, this.idLine.length);
			at += this.idLine.length;
		}
		System.arraycopy(this.bytes, 0, target, at, this.bytes.length);
		return at + this.bytes.length;
	}

	/**
	 * What a frame is.
	 */
	enum Kind {

		/** An application event: counted against the queue bounds. */
		EVENT,

		/** A replayed event: bounded by the log, so neither counted against the queue bounds nor dropped. */
		REPLAYED,

		/** A ping: only queued when nothing else waits to be written. */
		PING,

		/** The opening retry or comment and the close event: never refused nor dropped. */
		CONTROL

	}

}
