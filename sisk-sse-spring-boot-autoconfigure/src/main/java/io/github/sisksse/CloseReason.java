package io.github.sisksse;

/**
 * Why an {@link EventSource} ended. Every source ends exactly once, with the first of these that applied.
 * <p>
 * A client that vanishes is noticed when a write to it fails. Tomcat reports the failure both to the writer and,
 * on a container thread, to the request's async listeners, so such a source ends with {@link #PING_FAILED} or
 * {@link #SEND_FAILED}, or with {@link #CLIENT_GONE} when the container's report comes first.
 *
 * @see EventSource#whenClosed()
 */
public enum CloseReason {

	/**
	 * The application called {@link EventSource#close()}.
	 */
	CLOSED_BY_SERVER,

	/**
	 * The servlet container reported that the client went away or the request can no longer be used.
	 */
	CLIENT_GONE,

	/**
	 * Nothing was written for longer than the {@linkplain EventSource#waitForFail(java.time.Duration) wait-for-fail}
	 * timeout.
	 */
	IDLE_TIMEOUT,

	/**
	 * Writing an event to the client failed, usually because the client went away.
	 */
	SEND_FAILED,

	/**
	 * Writing a ping to the client failed, usually because the client went away.
	 */
	PING_FAILED,

	/**
	 * A newer source opened with the same identifier and replaced this one.
	 */
	REPLACED,

	/**
	 * The registry stopped, usually because the application is shutting down.
	 */
	SHUTDOWN,

	/**
	 * The source reached its maximum lifetime; the client is expected to reconnect.
	 */
	LIFETIME_EXPIRED,

	/**
	 * More events were queued than the client read, and the overflow policy is to close.
	 */
	QUEUE_OVERFLOW,

	/**
	 * A write to the client blocked for longer than the write timeout ({@code sisk.sse.write-timeout}): the client
	 * stopped reading.
	 */
	WRITE_TIMEOUT,

	/**
	 * The servlet container reported an error other than a client going away.
	 */
	ERROR

}
