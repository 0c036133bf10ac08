package io.github.sisksse;

import java.time.Duration;

/**
 * The ping policy of one {@link EventSource}: a message written when nothing else was written for an interval,
 * so that proxies and kernels keep the connection open and a client that went away is detected (a failed ping
 * closes the source with {@link CloseReason#PING_FAILED}).
 * <p>
 * Obtained in {@link EventSource#withPing(java.util.function.Consumer)}, pre-filled with the registry's defaults
 * ({@code sisk.sse.ping.*}). Settings take effect at the next ping. Pings of all sources share one scheduler; no
 * thread or timer is created per connection. A ping is skipped when anything was written within the interval or
 * events are waiting to be written. Methods may be called from any thread.
 */
public interface PingPolicy {

	/**
	 * Set the time without writes after which a ping is sent.
	 * @param interval a positive duration
	 * @return this policy
	 */
	PingPolicy interval(Duration interval);

	/**
	 * Send pings as a data message, like Sisk's {@code DataMessage}: the page's {@code onmessage} receives it.
	 * @param message the data of the message
	 * @return this policy
	 */
	PingPolicy dataMessage(String message);

	/**
	 * Send pings as an SSE comment (the default): it keeps the connection busy without waking the page.
	 * @param text the comment text, without CR or LF
	 * @return this policy
	 */
	PingPolicy comment(String text);

	/**
	 * Send pings as a named event, received by {@code addEventListener(name, ...)} on the page.
	 * @param name the event name, without CR or LF
	 * @param data the data of the event
	 * @return this policy
	 */
	PingPolicy event(String name, String data);

	/**
	 * Start pinging, or restart with the current interval if already started.
	 */
	void start();

	/**
	 * Stop pinging. {@link #start()} starts again.
	 */
	void stop();

	/**
	 * Whether pings are being sent.
	 * @return {@code true} between {@link #start()} and {@link #stop()} while the source is open
	 */
	boolean isStarted();

	/**
	 * How a ping is written.
	 */
	enum Format {

		/**
		 * An SSE comment line, invisible to the page.
		 */
		COMMENT,

		/**
		 * An unnamed data message, delivered to {@code onmessage}, as in Sisk.
		 */
		DATA,

		/**
		 * A named event.
		 */
		EVENT

	}

}
