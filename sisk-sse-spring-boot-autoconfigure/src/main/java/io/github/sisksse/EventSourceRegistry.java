package io.github.sisksse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.util.Assert;

/**
 * Opens Server-Sent Events streams and finds the live ones again, like Sisk's {@code HttpServer.EventSources}.
 * <p>
 * Only open, identified sources can be found: a source is removed the moment it ends, whatever the reason. All
 * methods are thread-safe and never block: the identifiers are kept in a concurrent map updated atomically per
 * identifier, so {@code open}, {@code get}, {@code find} and the removal of an ended source may run at the same
 * time from any threads. {@code find} and {@code all} return a snapshot; a source in it may end at any moment, in
 * which case sending to it returns {@code false}.
 * <p>
 * Spring Boot auto-configures one from {@code sisk.sse.*}. The registry is a lifecycle bean: when the
 * application context stops it closes every source with {@link CloseReason#SHUTDOWN}.
 */
public interface EventSourceRegistry {

	/**
	 * Open an anonymous source, like Sisk's {@code GetEventSource()}. It cannot be found with {@link #get},
	 * {@link #find} or {@link #all}.
	 * @return the open source; return it from the controller method
	 * @throws EventSourceRejectedException if the registry is stopped
	 */
	EventSource open();

	/**
	 * Open a source that can be found again by its identifier, like Sisk's {@code GetEventSource(identifier)}.
	 * A live source with the same identifier is handled by the {@link DuplicateIdentifierPolicy}.
	 * @param identifier the identifier
	 * @return the open source; return it from the controller method
	 * @throws EventSourceRejectedException if the identifier is taken under {@link DuplicateIdentifierPolicy#REJECT}
	 * or the registry is stopped
	 */
	EventSource open(String identifier);

	/**
	 * Return the live source with the given identifier, like Sisk's {@code GetByIdentifier}. With
	 * {@link DuplicateIdentifierPolicy#ALLOW}, the newest one.
	 * @param identifier the identifier
	 * @return the source, or empty when there is none or it has ended
	 */
	Optional<EventSource> get(String identifier);

	/**
	 * Return the live sources whose identifier matches, like Sisk's {@code Find}.
	 * @param identifierMatcher tested against each identifier, e.g. {@code id -> id.startsWith("user-")}
	 * @return a snapshot of the matching sources
	 */
	List<EventSource> find(Predicate<String> identifierMatcher);

	/**
	 * Return every live identified source, like Sisk's {@code All}.
	 * @return a snapshot of the identified sources
	 */
	List<EventSource> all();

	/**
	 * Return the number of live identified sources, as {@link #all()} would.
	 * @return the number of live identified sources
	 */
	int size();

	/**
	 * Return the identified streams connected anywhere: on this instance and, when the registry shares its
	 * {@link EventLog} with other instances (through Redis, say), on those, as they last reported them (a few
	 * seconds old at most; an instance that stopped reporting drops out). Unlike {@link #all()}, this includes
	 * streams whose connection is on another instance.
	 * @return a snapshot: identifier to number of connections
	 */
	Map<String, Integer> presence();

	/**
	 * Return the number of open sources, anonymous ones included: what {@code sisk.sse.max-connections} limits.
	 * @return the number of open sources
	 */
	int connectionCount();

	/**
	 * Send a message to the stream with this identifier: to every source with it, also one that opens while the
	 * message is on its way, and, when replay is enabled, to a client that reconnects to the stream later with an
	 * earlier {@code Last-Event-ID}. This is the way to send to a user without losing what is sent while its
	 * browser reconnects.
	 * <p>
	 * Like every send, it is serialised on the calling thread, then appended to the registry's ordered log and
	 * delivered asynchronously, in log order, so that it never waits for a connection; whatever the sending
	 * method, each client receives the messages meant for it in the order they were sent.
	 * @param identifier the identifier
	 * @param data the data or event, as for {@link EventSource#send(Object)}
	 * @return the number of sources the stream had when the message was sent (0 when nobody is connected: with
	 * replay, a client between two connections still receives it when it comes back)
	 * @throws IllegalStateException if so many messages wait to be delivered that the log is full
	 * @throws EventLogException if the registry shares its log with other instances and the log cannot be reached
	 * (its store is down): nothing was sent
	 */
	int send(String identifier, Object data);

	/**
	 * Send one message to every stream whose identifier starts with the prefix (a group, such as
	 * {@code "room-42/"}), as {@link #send(String, Object)} does for one: including those opening meanwhile and,
	 * with replay, those whose client reconnects later. Unlike {@link #broadcast(Object, Predicate)}, the group is
	 * a plain value, which an ordered log shared by several instances can carry.
	 * @param prefix the identifier prefix; empty for every identified stream
	 * @param data the data or event, as for {@link EventSource#send(Object)}
	 * @return the number of sources the group had when the message was sent
	 * @throws IllegalStateException if so many messages wait to be delivered that the log is full
	 * @throws EventLogException if the registry shares its log with other instances and the log cannot be reached
	 * (its store is down): nothing was sent
	 */
	int sendToPrefix(String prefix, Object data);

	/**
	 * Send one message to every open source, anonymous ones included, and, with replay, to every identified client
	 * that reconnects later with an earlier {@code Last-Event-ID}. The data is serialised once, and the call
	 * returns once the message is in the log, whatever the number of sources; nothing waits for a slow client. A
	 * {@link org.springframework.http.codec.ServerSentEvent} is sent as that full event.
	 * @param data the data or event, as for {@link EventSource#send(Object)}
	 * @return the number of sources open when it was sent
	 * @throws IllegalStateException if so many messages wait to be delivered that the log is full
	 * @throws EventLogException if the registry shares its log with other instances and the log cannot be reached
	 * (its store is down): nothing was sent
	 */
	int broadcast(Object data);

	/**
	 * Send one message to every identified stream whose identifier matches, as {@link #send(String, Object)}
	 * does for one. The predicate is application code, so it is evaluated in this instance only: on every
	 * identifier when sent, then again for each stream when the message is delivered or replayed. Prefer
	 * {@link #sendToPrefix(String, Object)} where a prefix will do.
	 * @param data the data or event, as for {@link EventSource#send(Object)}
	 * @param identifierMatcher tested against each identifier, e.g. {@code id -> id.startsWith("room-42/")}
	 * @return the number of matching sources when it was sent
	 * @throws IllegalStateException if so many messages wait to be delivered that the log is full
	 * @throws EventLogException if the registry shares its log with other instances and the log cannot be reached
	 * (its store is down): nothing was sent
	 */
	int broadcast(Object data, Predicate<String> identifierMatcher);

	/**
	 * Return a builder for a registry outside Spring Boot's auto-configuration, for example to declare one as
	 * a bean of your own.
	 * @return a new builder with the same defaults as the {@code sisk.sse.*} properties
	 */
	static Builder builder() {
		return new Builder();
	}

	/**
	 * Builds an {@link EventSourceRegistry}. Not thread-safe; the registry it builds is.
	 */
	final class Builder {

		@Nullable TaskScheduler scheduler;

		@Nullable Executor writerExecutor;

		int writerThreads = 2;

		@Nullable Supplier<? extends Iterable<HttpMessageConverter<?>>> messageConverters;

		boolean pingEnabled = true;

		Duration pingInterval = Duration.ofSeconds(15);

		PingPolicy.Format pingFormat = PingPolicy.Format.COMMENT;

		String pingMessage = "ping";

		String pingEventName = "ping";

		boolean pingResetsWaitForFail;

		@Nullable Duration waitForFail;

		@Nullable Duration maxLifetime;

		@Nullable Duration retry;

		@Nullable String closeEventName;

		String closeEventData = "";

		DuplicateIdentifierPolicy duplicateIdentifier = DuplicateIdentifierPolicy.REPLACE;

		int queueMaxEvents = 1000;

		long queueMaxBytes = 1024 * 1024;

		OverflowPolicy overflow = OverflowPolicy.CLOSE;

		Duration writeTimeout = Duration.ofSeconds(30);

		Duration bindTimeout = Duration.ofSeconds(10);

		List<EventSourceListener> listeners = new ArrayList<>();

		@Nullable Integer maxConnections;

		@Nullable EventLog eventLog;

		boolean replay;

		int replayMaxEvents = 10_000;

		long replayMaxBytes = 16 * 1024 * 1024;

		Duration replayMaxAge = Duration.ofMinutes(5);

		String resetEventName = "sisk-reset";

		@Nullable Integer maxConnectionsPerClient;

		Builder() {
		}

		/**
		 * Return a copy, so that a registry keeps the settings it was built with.
		 */
		Builder copy() {
			Builder copy = new Builder();
			copy.scheduler = this.scheduler;
			copy.writerExecutor = this.writerExecutor;
			copy.writerThreads = this.writerThreads;
			copy.messageConverters = this.messageConverters;
			copy.pingEnabled = this.pingEnabled;
			copy.pingInterval = this.pingInterval;
			copy.pingFormat = this.pingFormat;
			copy.pingMessage = this.pingMessage;
			copy.pingEventName = this.pingEventName;
			copy.pingResetsWaitForFail = this.pingResetsWaitForFail;
			copy.waitForFail = this.waitForFail;
			copy.maxLifetime = this.maxLifetime;
			copy.retry = this.retry;
			copy.closeEventName = this.closeEventName;
			copy.closeEventData = this.closeEventData;
			copy.duplicateIdentifier = this.duplicateIdentifier;
			copy.queueMaxEvents = this.queueMaxEvents;
			copy.queueMaxBytes = this.queueMaxBytes;
			copy.overflow = this.overflow;
			copy.writeTimeout = this.writeTimeout;
			copy.bindTimeout = this.bindTimeout;
			copy.listeners = List.copyOf(this.listeners);
			copy.maxConnections = this.maxConnections;
			copy.eventLog = this.eventLog;
			copy.replay = this.replay;
			copy.replayMaxEvents = this.replayMaxEvents;
			copy.replayMaxBytes = this.replayMaxBytes;
			copy.replayMaxAge = this.replayMaxAge;
			copy.resetEventName = this.resetEventName;
			copy.maxConnectionsPerClient = this.maxConnectionsPerClient;
			return copy;
		}

		/**
		 * Use this scheduler for pings and timeouts. By default the registry creates a one-thread scheduler of
		 * its own and shuts it down when it is destroyed.
		 * @param scheduler a shared scheduler, not shut down by the registry
		 * @return this builder
		 */
		public Builder scheduler(TaskScheduler scheduler) {
			this.scheduler = scheduler;
			return this;
		}

		/**
		 * Use this executor to run the {@link #writerThreads(int) writer threads}' loops, instead of platform
		 * threads of the registry's own. It receives that many long-running tasks, which stop with the registry.
		 * @param writerExecutor an executor that runs each task on a thread of its own, for example of virtual
		 * threads; not shut down by the registry
		 * @return this builder
		 */
		public Builder writerExecutor(Executor writerExecutor) {
			this.writerExecutor = writerExecutor;
			return this;
		}

		/**
		 * Set the size of the registry's own writer pool, when no {@link #writerExecutor(Executor)} is given.
		 * @param writerThreads at least 1
		 * @return this builder
		 */
		public Builder writerThreads(int writerThreads) {
			Assert.isTrue(writerThreads > 0, "writerThreads must be positive");
			this.writerThreads = writerThreads;
			return this;
		}

		/**
		 * Serialise objects with these converters, looked up at the first object sent. By default, Spring's
		 * default server converters.
		 * @param messageConverters supplies the converters, for example those of Spring MVC
		 * @return this builder
		 */
		public Builder messageConverters(Supplier<? extends Iterable<HttpMessageConverter<?>>> messageConverters) {
			this.messageConverters = messageConverters;
			return this;
		}

		/**
		 * Set whether every source starts pinging when it opens.
		 * @param enabled {@code true} by default
		 * @return this builder
		 */
		public Builder pingEnabled(boolean enabled) {
			this.pingEnabled = enabled;
			return this;
		}

		/**
		 * Set the default ping interval.
		 * @param interval a positive duration, 15 seconds by default
		 * @return this builder
		 */
		public Builder pingInterval(Duration interval) {
			this.pingInterval = positive(interval, "pingInterval");
			return this;
		}

		/**
		 * Set how pings are written by default.
		 * @param format the format, {@link PingPolicy.Format#COMMENT} by default
		 * @param message the comment text or data, {@code "ping"} by default
		 * @param eventName the event name for {@link PingPolicy.Format#EVENT}, {@code "ping"} by default
		 * @return this builder
		 */
		public Builder pingMessage(PingPolicy.Format format, String message, String eventName) {
			this.pingFormat = format;
			this.pingMessage = message;
			this.pingEventName = eventName;
			return this;
		}

		/**
		 * Set whether a ping restarts the wait-for-fail idle countdown like an event does.
		 * @param resets {@code false} by default
		 * @return this builder
		 */
		public Builder pingResetsWaitForFail(boolean resets) {
			this.pingResetsWaitForFail = resets;
			return this;
		}

		/**
		 * Set the wait-for-fail idle timeout every source starts with.
		 * @param idleTimeout a positive duration, or {@code null} (the default) for none
		 * @return this builder
		 */
		public Builder waitForFail(@Nullable Duration idleTimeout) {
			this.waitForFail = (idleTimeout != null) ? positive(idleTimeout, "waitForFail") : null;
			return this;
		}

		/**
		 * Set the time after which every source is closed with {@link CloseReason#LIFETIME_EXPIRED}, for the
		 * client to reconnect.
		 * @param maxLifetime a positive duration, or {@code null} (the default) for none
		 * @return this builder
		 */
		public Builder maxLifetime(@Nullable Duration maxLifetime) {
			this.maxLifetime = (maxLifetime != null) ? positive(maxLifetime, "maxLifetime") : null;
			return this;
		}

		/**
		 * Set the reconnection time sent to every client at open ({@code retry:}).
		 * @param retry a positive duration, or {@code null} (the default) to leave the browser's own
		 * @return this builder
		 */
		public Builder retry(@Nullable Duration retry) {
			this.retry = (retry != null) ? positive(retry, "retry") : null;
			return this;
		}

		/**
		 * Set the event that {@link EventSource#close()} sends last, so the page knows not to reconnect. Also sent
		 * when a source is closed as idle, replaced or at shutdown; not at the end of its maximum lifetime.
		 * @param name the event name, or {@code null} (the default) or an empty name to send none
		 * @param data the event data
		 * @return this builder
		 */
		public Builder closeEvent(@Nullable String name, String data) {
			this.closeEventName = (name != null && !name.isEmpty()) ? name : null;
			this.closeEventData = data;
			return this;
		}

		/**
		 * Set what {@link EventSourceRegistry#open(String)} does with an identifier that is already live.
		 * @param policy {@link DuplicateIdentifierPolicy#REPLACE} by default
		 * @return this builder
		 */
		public Builder duplicateIdentifier(DuplicateIdentifierPolicy policy) {
			this.duplicateIdentifier = policy;
			return this;
		}

		/**
		 * Bound each source's outbound queue. A single event always fits in an empty queue.
		 * @param maxEvents events waiting to be written, 1000 by default
		 * @param maxBytes bytes waiting to be written, 1 MiB by default
		 * @param overflow what happens when an event does not fit, {@link OverflowPolicy#CLOSE} by default
		 * @return this builder
		 */
		public Builder queue(int maxEvents, long maxBytes, OverflowPolicy overflow) {
			Assert.isTrue(maxEvents > 0, "maxEvents must be positive");
			Assert.isTrue(maxBytes > 0, "maxBytes must be positive");
			this.queueMaxEvents = maxEvents;
			this.queueMaxBytes = maxBytes;
			this.overflow = overflow;
			return this;
		}

		/**
		 * Set how long a client may take no byte at all (it stopped reading) before its source is closed with
		 * {@link CloseReason#WRITE_TIMEOUT} and its response completed. Writes never block: no thread waits on the
		 * client meanwhile, and other clients are not held up.
		 * @param writeTimeout a positive duration, 30 seconds by default
		 * @return this builder
		 */
		public Builder writeTimeout(Duration writeTimeout) {
			this.writeTimeout = positive(writeTimeout, "writeTimeout");
			return this;
		}

		/**
		 * Set how long a request handler may take to return a source it opened. A source that is not returned by
		 * then (it was opened off the request thread, or the handler failed) can never reach its client, and is
		 * ended with {@link CloseReason#ERROR} so that it holds no place.
		 * @param bindTimeout a positive duration
		 * @return this builder
		 */
		public Builder bindTimeout(Duration bindTimeout) {
			this.bindTimeout = positive(bindTimeout, "bindTimeout");
			return this;
		}

		/**
		 * Limit the number of open sources. {@code open} then refuses with {@code 503 Service Unavailable} and a
		 * {@code Retry-After} header, before any stream starts.
		 * @param maxConnections the limit for all sources, or {@code null} (the default) for none
		 * @param maxConnectionsPerClient the limit per client address, answered with {@code 429 Too Many Requests},
		 * or {@code null} (the default) for none
		 * @return this builder
		 */
		public Builder maxConnections(@Nullable Integer maxConnections, @Nullable Integer maxConnectionsPerClient) {
			Assert.isTrue(maxConnections == null || maxConnections > 0, "maxConnections must be positive");
			Assert.isTrue(maxConnectionsPerClient == null || maxConnectionsPerClient > 0,
					"maxConnectionsPerClient must be positive");
			this.maxConnections = maxConnections;
			this.maxConnectionsPerClient = maxConnectionsPerClient;
			return this;
		}

		/**
		 * Make streams resumable: the registry keeps its most recent messages, and a source opened with an
		 * identifier and a {@code Last-Event-ID} request header (or {@code lastEventId} query parameter) first
		 * receives those its client missed, in order, then every later one live. The bounds hold for the whole
		 * registry, whatever the number of streams.
		 * @param maxEvents how many messages to keep
		 * @param maxBytes how many bytes of messages to keep
		 * @param maxAge how long to keep a message
		 * @param resetEventName the event sent instead when what followed the client's last id is no longer (or
		 * never was) kept, so that the page reloads its state; {@code "sisk-reset"} by default
		 * @return this builder
		 */
		public Builder replay(int maxEvents, long maxBytes, Duration maxAge, String resetEventName) {
			Assert.isTrue(maxEvents > 0, "maxEvents must be positive");
			Assert.isTrue(maxBytes > 0, "maxBytes must be positive");
			EventEncoder.checkNoLineBreak("Reset event name", resetEventName);
			this.replay = true;
			this.replayMaxEvents = maxEvents;
			this.replayMaxBytes = maxBytes;
			this.replayMaxAge = positive(maxAge, "maxAge");
			this.resetEventName = resetEventName;
			return this;
		}

		/**
		 * Publish through this log instead of one in this application's memory, for example to share streams with
		 * the other instances of the application through Redis. The registry starts it, and stops it when it is
		 * destroyed.
		 * @param eventLog the log, used by this registry only
		 * @return this builder
		 */
		public Builder eventLog(EventLog eventLog) {
			Assert.notNull(eventLog, "Event log must not be null");
			this.eventLog = eventLog;
			return this;
		}

		/**
		 * Add a listener that is told when sources open, close and write.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder listener(EventSourceListener listener) {
			Assert.notNull(listener, "Listener must not be null");
			this.listeners.add(listener);
			return this;
		}

		/**
		 * Build the registry. It is usable at once; as a bean, Spring stops it (closing every source) and
		 * destroys it (releasing the threads it created).
		 * @return a new registry
		 */
		public EventSourceRegistry build() {
			return new DefaultEventSourceRegistry(this);
		}

		private static Duration positive(Duration duration, String name) {
			Assert.isTrue(!duration.isNegative() && !duration.isZero(), () -> name + " must be positive");
			return duration;
		}

	}

}
