package io.github.sisksse;

/**
 * What a source does when an event would not fit in its bounded outbound queue because the client reads
 * more slowly than the application sends.
 */
public enum OverflowPolicy {

	/**
	 * Close the source with {@link CloseReason#QUEUE_OVERFLOW}; the event is not accepted. The client reconnects.
	 */
	CLOSE,

	/**
	 * Discard the oldest queued events until the new one fits; the new event is accepted.
	 */
	DROP_OLDEST

}
