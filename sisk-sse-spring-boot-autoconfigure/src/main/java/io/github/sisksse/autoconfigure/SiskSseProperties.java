package io.github.sisksse.autoconfigure;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import io.github.sisksse.DuplicateIdentifierPolicy;
import io.github.sisksse.OverflowPolicy;
import io.github.sisksse.PingPolicy;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Configuration properties for Sisk-style Server-Sent Events. Validates itself when bound, so that a bad value
 * fails start-up with a message that names the property.
 */
@ConfigurationProperties("sisk.sse")
public class SiskSseProperties implements Validator {

	/**
	 * Whether to auto-configure the event source registry.
	 */
	private boolean enabled = true;

	/**
	 * Whether to publish EventSourceOpenedEvent and EventSourceClosedEvent application events.
	 */
	private boolean applicationEvents = true;

	/**
	 * Idle timeout every event source starts with, as if waitForFail were called at open: the source is closed
	 * when no event was written for this long. None by default.
	 */
	private @Nullable Duration waitForFail;

	/**
	 * Maximum time an event source stays open; it is then closed without the close event, for the client to
	 * reconnect. None by default.
	 */
	private @Nullable Duration maxLifetime;

	/**
	 * Reconnection time sent to every client when its stream opens (the "retry:" field). When not set, browsers
	 * use their own, usually 3 to 5 seconds.
	 */
	private @Nullable Duration retry;

	/**
	 * What opening an event source does when a live one already has the same identifier.
	 */
	private DuplicateIdentifierPolicy duplicateIdentifier = DuplicateIdentifierPolicy.REPLACE;

	/**
	 * Number of threads, shared by all connections, that write queued events to clients. Writes never block (a
	 * client that does not read keeps its bytes in its own queue), so a few are enough; with virtual threads
	 * enabled they are virtual threads.
	 */
	private int writerThreads = 2;

	/**
	 * Time a client may take no byte at all (it stopped reading) before its connection is closed. No thread waits
	 * on it meanwhile, and other clients are not held up.
	 */
	private Duration writeTimeout = Duration.ofSeconds(30);

	/**
	 * Time a request handler may take to return a source it opened. A source not returned by then (opened off
	 * the request thread, or by a handler that failed) can never reach its client, and is closed.
	 */
	private Duration bindTimeout = Duration.ofSeconds(10);

	/**
	 * Maximum number of open event streams; further requests are answered with 503 and Retry-After before any
	 * stream starts. Keep it below the container's own connection limit (server.tomcat.max-connections) so that
	 * ordinary requests are still served. None by default.
	 */
	private @Nullable Integer maxConnections;

	/**
	 * Maximum number of open event streams per client address; further requests are answered with 429 and
	 * Retry-After. None by default.
	 */
	private @Nullable Integer maxConnectionsPerClient;

	/**
	 * Where the log of sent events lives: 'memory', this application's own (one instance), or 'redis', shared by
	 * every instance that uses the same Redis and key prefix, so that a send on one instance reaches streams
	 * connected to any, and clients resume on any (needs Spring Data Redis, configured with spring.data.redis.*).
	 */
	private Broker broker = Broker.MEMORY;

	private final Ping ping = new Ping();

	private final CloseEvent closeEvent = new CloseEvent();

	private final Queue queue = new Queue();

	private final Replay replay = new Replay();

	private final Redis redis = new Redis();

	private final Server server = new Server();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public boolean isApplicationEvents() {
		return this.applicationEvents;
	}

	public void setApplicationEvents(boolean applicationEvents) {
		this.applicationEvents = applicationEvents;
	}

	public @Nullable Duration getWaitForFail() {
		return this.waitForFail;
	}

	public void setWaitForFail(@Nullable Duration waitForFail) {
		this.waitForFail = waitForFail;
	}

	public @Nullable Duration getMaxLifetime() {
		return this.maxLifetime;
	}

	public void setMaxLifetime(@Nullable Duration maxLifetime) {
		this.maxLifetime = maxLifetime;
	}

	public @Nullable Duration getRetry() {
		return this.retry;
	}

	public void setRetry(@Nullable Duration retry) {
		this.retry = retry;
	}

	public DuplicateIdentifierPolicy getDuplicateIdentifier() {
		return this.duplicateIdentifier;
	}

	public void setDuplicateIdentifier(DuplicateIdentifierPolicy duplicateIdentifier) {
		this.duplicateIdentifier = duplicateIdentifier;
	}

	public int getWriterThreads() {
		return this.writerThreads;
	}

	public void setWriterThreads(int writerThreads) {
		this.writerThreads = writerThreads;
	}

	public Duration getWriteTimeout() {
		return this.writeTimeout;
	}

	public void setWriteTimeout(Duration writeTimeout) {
		this.writeTimeout = writeTimeout;
	}

	public Duration getBindTimeout() {
		return this.bindTimeout;
	}

	public void setBindTimeout(Duration bindTimeout) {
		this.bindTimeout = bindTimeout;
	}

	public @Nullable Integer getMaxConnections() {
		return this.maxConnections;
	}

	public void setMaxConnections(@Nullable Integer maxConnections) {
		this.maxConnections = maxConnections;
	}

	public @Nullable Integer getMaxConnectionsPerClient() {
		return this.maxConnectionsPerClient;
	}

	public void setMaxConnectionsPerClient(@Nullable Integer maxConnectionsPerClient) {
		this.maxConnectionsPerClient = maxConnectionsPerClient;
	}

	public Broker getBroker() {
		return this.broker;
	}

	public void setBroker(Broker broker) {
		this.broker = broker;
	}

	public Ping getPing() {
		return this.ping;
	}

	public CloseEvent getCloseEvent() {
		return this.closeEvent;
	}

	public Queue getQueue() {
		return this.queue;
	}

	public Replay getReplay() {
		return this.replay;
	}

	public Redis getRedis() {
		return this.redis;
	}

	public Server getServer() {
		return this.server;
	}

	@Override
	public boolean supports(Class<?> type) {
		return SiskSseProperties.class.isAssignableFrom(type);
	}

	@Override
	public void validate(Object target, Errors errors) {
		SiskSseProperties properties = (SiskSseProperties) target;
		checkPositive(errors, "ping.interval", "ping.interval", properties.ping.interval);
		checkPositive(errors, "waitForFail", "wait-for-fail", properties.waitForFail);
		checkPositive(errors, "maxLifetime", "max-lifetime", properties.maxLifetime);
		checkPositive(errors, "retry", "retry", properties.retry);
		checkPositive(errors, "writeTimeout", "write-timeout", properties.writeTimeout);
		checkPositive(errors, "bindTimeout", "bind-timeout", properties.bindTimeout);
		if (properties.writerThreads < 1) {
			reject(errors, "writerThreads", "writer-threads", "must be at least 1");
		}
		if (properties.maxConnections != null && properties.maxConnections < 1) {
			reject(errors, "maxConnections", "max-connections", "must be at least 1");
		}
		if (properties.maxConnectionsPerClient != null && properties.maxConnectionsPerClient < 1) {
			reject(errors, "maxConnectionsPerClient", "max-connections-per-client", "must be at least 1");
		}
		if (properties.queue.maxEvents < 1) {
			reject(errors, "queue.maxEvents", "queue.max-events", "must be at least 1");
		}
		if (properties.queue.maxBytes.toBytes() < 1) {
			reject(errors, "queue.maxBytes", "queue.max-bytes", "must be positive");
		}
		if (properties.ping.format == PingPolicy.Format.COMMENT) {
			checkSingleLine(errors, "ping.message", "ping.message", properties.ping.message);
		}
		checkSingleLine(errors, "ping.eventName", "ping.event-name", properties.ping.eventName);
		checkSingleLine(errors, "closeEvent.name", "close-event.name", properties.closeEvent.name);
		checkSingleLine(errors, "replay.resetEvent", "replay.reset-event", properties.replay.resetEvent);
		checkPositive(errors, "replay.maxAge", "replay.max-age", properties.replay.maxAge);
		if (properties.replay.maxEvents < 1) {
			reject(errors, "replay.maxEvents", "replay.max-events", "must be at least 1");
		}
		if (properties.replay.maxBytes.toBytes() < 1) {
			reject(errors, "replay.maxBytes", "replay.max-bytes", "must be positive");
		}
		String keyPrefix = properties.redis.keyPrefix;
		if (keyPrefix == null || keyPrefix.isBlank() || keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0) {
			reject(errors, "redis.keyPrefix", "redis.key-prefix", "must not be empty nor contain braces");
		}
		if (properties.redis.presenceInterval.toMillis() < 1) {
			reject(errors, "redis.presenceInterval", "redis.presence-interval", "must be at least 1ms");
		}
		DataSize sendBuffer = properties.server.sendBuffer;
		if (sendBuffer != null && (sendBuffer.compareTo(Server.MIN_SEND_BUFFER) < 0
				|| sendBuffer.compareTo(Server.MAX_SEND_BUFFER) > 0)) {
			reject(errors, "server.sendBuffer", "server.send-buffer", "must be between 1KB and 64MB");
		}
	}

	private static void checkPositive(Errors errors, String field, String property, @Nullable Duration value) {
		if (value != null && (value.isNegative() || value.isZero())) {
			reject(errors, field, property, "must be positive");
		}
	}

	private static void checkSingleLine(Errors errors, String field, String property, @Nullable String value) {
		if (value != null && (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0)) {
			reject(errors, field, property, "must not contain CR or LF");
		}
	}

	private static void reject(Errors errors, String field, String property, String message) {
		errors.rejectValue(field, "invalid", "sisk.sse." + property + " " + message);
	}

	/**
	 * Where the log of sent events lives.
	 */
	public enum Broker {

		/**
		 * In this application's memory: streams, sends and resumes of this instance only.
		 */
		MEMORY,

		/**
		 * In Redis, shared by every instance that uses the same Redis and key prefix.
		 */
		REDIS

	}

	/**
	 * The log in Redis, when the broker is 'redis'. Redis itself is configured with spring.data.redis.*.
	 */
	public static class Redis {

		/**
		 * Prefix of the log's Redis keys, used as a hash tag so that they share one slot of a Redis Cluster.
		 * Instances share streams when they share Redis and this prefix.
		 */
		private String keyPrefix = "sisk-sse";

		/**
		 * How often each instance tells the others which identified streams it holds. An instance that stops
		 * doing so drops out of the others' presence after five intervals.
		 */
		private Duration presenceInterval = Duration.ofSeconds(1);

		public String getKeyPrefix() {
			return this.keyPrefix;
		}

		public void setKeyPrefix(String keyPrefix) {
			this.keyPrefix = keyPrefix;
		}

		public Duration getPresenceInterval() {
			return this.presenceInterval;
		}

		public void setPresenceInterval(Duration presenceInterval) {
			this.presenceInterval = presenceInterval;
		}

	}

	/**
	 * The embedded web server's own connections: what is set here applies to every connection it accepts, event
	 * streams or not.
	 */
	public static class Server {

		static final DataSize MIN_SEND_BUFFER = DataSize.ofKilobytes(1);

		static final DataSize MAX_SEND_BUFFER = DataSize.ofMegabytes(64);

		/**
		 * Send buffer (SO_SNDBUF) of every connection the embedded Tomcat or Jetty accepts, event streams or not.
		 * Unset, Linux grows each connection's buffer up to net.ipv4.tcp_wmem's maximum (4MB by default), so that
		 * every client that stops reading first takes up to that much, and many of them slow the healthy ones down.
		 * Set it when many clients may stop reading: 64KB is ample for events of a few KB. A capped buffer also caps
		 * one connection's throughput to about its size per round trip (64KB at 100 ms: 640KB/s), which matters for
		 * large responses over high-latency links. None by default: the container's and the kernel's own.
		 */
		private @Nullable DataSize sendBuffer;

		public @Nullable DataSize getSendBuffer() {
			return this.sendBuffer;
		}

		public void setSendBuffer(@Nullable DataSize sendBuffer) {
			this.sendBuffer = sendBuffer;
		}

	}

	/**
	 * Pings keep idle connections open through proxies and detect clients that went away.
	 */
	public static class Ping {

		/**
		 * Whether every event source starts pinging when it opens.
		 */
		private boolean enabled = true;

		/**
		 * Time without writes after which a ping is sent.
		 */
		private Duration interval = Duration.ofSeconds(15);

		/**
		 * How a ping is written: a comment the page never sees, a data message delivered to onmessage (as in
		 * Sisk), or a named event.
		 */
		private PingPolicy.Format format = PingPolicy.Format.COMMENT;

		/**
		 * Comment text or data of a ping.
		 */
		private String message = "ping";

		/**
		 * Event name of a ping when the format is 'event'.
		 */
		private String eventName = "ping";

		/**
		 * Whether a ping restarts the wait-for-fail idle countdown like an event does.
		 */
		private boolean resetsWaitForFail;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getInterval() {
			return this.interval;
		}

		public void setInterval(Duration interval) {
			this.interval = interval;
		}

		public PingPolicy.Format getFormat() {
			return this.format;
		}

		public void setFormat(PingPolicy.Format format) {
			this.format = format;
		}

		public String getMessage() {
			return this.message;
		}

		public void setMessage(String message) {
			this.message = message;
		}

		public String getEventName() {
			return this.eventName;
		}

		public void setEventName(String eventName) {
			this.eventName = eventName;
		}

		public boolean isResetsWaitForFail() {
			return this.resetsWaitForFail;
		}

		public void setResetsWaitForFail(boolean resetsWaitForFail) {
			this.resetsWaitForFail = resetsWaitForFail;
		}

	}

	/**
	 * The last event close() sends, so that the page knows not to reconnect.
	 */
	public static class CloseEvent {

		/**
		 * Name of the event sent by close() before the stream ends, also sent when a source is closed as idle,
		 * replaced or at shutdown. None by default, nor when empty.
		 */
		private @Nullable String name;

		/**
		 * Data of the close event.
		 */
		private String data = "";

		public @Nullable String getName() {
			return this.name;
		}

		public void setName(@Nullable String name) {
			this.name = name;
		}

		public String getData() {
			return this.data;
		}

		public void setData(String data) {
			this.data = data;
		}

	}

	/**
	 * Resumable streams: the registry's most recent events, replayed to a client that reconnects to an identified
	 * stream with Last-Event-ID. The bounds hold for the whole registry, whatever the number of streams.
	 */
	public static class Replay {

		/**
		 * Whether to keep the most recent events and replay what a reconnecting client missed.
		 */
		private boolean enabled;

		/**
		 * Maximum number of events kept, for all streams together.
		 */
		private int maxEvents = 10_000;

		/**
		 * Maximum size of the events kept, for all streams together.
		 */
		private DataSize maxBytes = DataSize.ofMegabytes(16);

		/**
		 * How long an event is kept.
		 */
		private Duration maxAge = Duration.ofMinutes(5);

		/**
		 * Name of the event sent instead of a replay when what followed the client's last event id is no longer
		 * kept (or the id is unknown), so that the page reloads its state. Its data is that id.
		 */
		private String resetEvent = "sisk-reset";

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public int getMaxEvents() {
			return this.maxEvents;
		}

		public void setMaxEvents(int maxEvents) {
			this.maxEvents = maxEvents;
		}

		public DataSize getMaxBytes() {
			return this.maxBytes;
		}

		public void setMaxBytes(DataSize maxBytes) {
			this.maxBytes = maxBytes;
		}

		public Duration getMaxAge() {
			return this.maxAge;
		}

		public void setMaxAge(Duration maxAge) {
			this.maxAge = maxAge;
		}

		public String getResetEvent() {
			return this.resetEvent;
		}

		public void setResetEvent(String resetEvent) {
			this.resetEvent = resetEvent;
		}

	}

	/**
	 * Each connection's bounded outbound queue, which lets a slow client fall behind without stalling anyone.
	 */
	public static class Queue {

		/**
		 * Maximum number of events waiting to be written to one client.
		 */
		private int maxEvents = 1000;

		/**
		 * Maximum size of the events waiting to be written to one client.
		 */
		private DataSize maxBytes = DataSize.ofMegabytes(1);

		/**
		 * What happens when an event does not fit: close the connection (the client reconnects) or drop the
		 * oldest waiting events.
		 */
		private OverflowPolicy overflow = OverflowPolicy.CLOSE;

		public int getMaxEvents() {
			return this.maxEvents;
		}

		public void setMaxEvents(int maxEvents) {
			this.maxEvents = maxEvents;
		}

		public DataSize getMaxBytes() {
			return this.maxBytes;
		}

		public void setMaxBytes(DataSize maxBytes) {
			this.maxBytes = maxBytes;
		}

		public OverflowPolicy getOverflow() {
			return this.overflow;
		}

		public void setOverflow(OverflowPolicy overflow) {
			this.overflow = overflow;
		}

	}

}
