package io.github.sisksse;

import org.jspecify.annotations.Nullable;

/**
 * One unit of the outbound queue: the encoded bytes of an event, ping or control line, preceded on the wire by
 * either a ready {@code id:} line or the connection's own numbered id (written straight into the batch, so that
 * numbering costs no allocation per event). Immutable, and the arrays are never modified, so one encoded event
 * is shared by every connection it is queued for.
 *
 * @param idLine the {@code id:} line to write first, if any
 * @param localId the connection's own id to write first, when positive
 * @param bytes the encoded frame
 * @param kind what the frame is, which decides how the queue bounds and counts it
 */
record Frame(byte @Nullable [] idLine, long localId, byte[] bytes, Kind kind) {

	static Frame control(byte[] bytes) {
		return new Frame(null, 0, bytes, Kind.CONTROL);
	}

	/**
	 * Return the number of bytes this frame takes on the wire.
	 */
	int length() {
		return this.bytes.length + ((this.idLine != null) ? this.idLine.length
				: (this.localId > 0) ? 5 + digits(this.localId) : 0);
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
		else if (this.localId > 0) {
			at = writeIdLine(this.localId, target, at);
		}
		System.arraycopy(this.bytes, 0, target, at, this.bytes.length);
		return at + this.bytes.length;
	}

	private static int digits(long value) {
		int digits = 1;
		for (long rest = value / 10; rest > 0; rest /= 10) {
			digits++;
		}
		return digits;
	}

	private static int writeIdLine(long id, byte[] target, int offset) {
		int digits = digits(id);
		target[offset] = 'i';
		target[offset + 1] = 'd';
		target[offset + 2] = ':';
		target[offset + 3] = ' ';
		long rest = id;
		for (int i = offset + 3 + digits; i >= offset + 4; i--) {
			target[i] = (byte) ('0' + (rest % 10));
			rest /= 10;
		}
		target[offset + 4 + digits] = '\n';
		return offset + 5 + digits;
	}

	/**
	 * What a frame is.
	 */
	enum Kind {

		/** An application event: counted against the queue bounds. */
		EVENT,

		/** A replayed event: bounded by the history, so neither counted against the queue bounds nor dropped. */
		REPLAYED,

		/** A ping: only queued when nothing else waits to be written. */
		PING,

		/** The opening retry or comment and the close event: never refused nor dropped. */
		CONTROL

	}

}
