package io.github.sisksse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.util.Assert;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * One connection: the facade that the application and the registry call. It composes the {@link OutboundQueue},
 * the {@link ConnectionLifecycle}, the {@link ResponseHeaders}, the {@link ConnectionWriter} (the sink and the
 * writer role) and the {@link ConnectionTimers}; its {@link SourceIntake} takes what enters it (headers, sends,
 * the close request, the events queued for it), and its {@link SourceConnection} is the side that the transport,
 * the timers and the writer report to, and the one that ends the source.
 * <p>
 * <b>Thread safety.</b> The monitor of the connection's private {@link OutboundQueue} is the one lock of the
 * connection (not a lock object of its own, as a broadcast touches every connection and each object is one more
 * cache miss; not this object, which the application holds):
 * it guards the queue, the lifecycle state, the close request, the headers and the writer role, whose classes have
 * no lock of their own. It is held only for a few field updates: never while writing, never while running listeners
 * or user callbacks. Senders encode on their own thread and append under the lock.
 * <p>
 * <b>Lifecycle.</b> {@code OPEN} accepts events. The first {@link #end} fixes the {@link CloseReason}: a graceful
 * end moves to {@code CLOSING} (what is queued is written, then the response completes), an abrupt one to
 * {@code CLOSED} (the queue is dropped and the response completed at once). {@link #whenClosed()} completes
 * exactly once, never under the lock.
 */
final class DefaultEventSource implements EventSource {

	private final @Nullable String identifier;

	private final @Nullable String remoteAddress;

	private final Instant openedAt = Instant.now();

	private final ConnectionSettings settings;

	private final SourceHost host;

	private final SourceEmitter emitter = new SourceEmitter(this);

	private final SourceConnection connection;

	private final ConnectionTimers timers;

	private final SourceIntake intake;

	/** The connection's queue, and its monitor: the one lock of the connection. */
	private final OutboundQueue queue;

	// Guarded by the queue's monitor

	private final ConnectionLifecycle lifecycle;

	private final ConnectionWriter writer;

	private static final AtomicLong SERIALS = new AtomicLong();

	private final long serial = SERIALS.incrementAndGet();

	/**
	 * The generation (epoch) and position of the first publication this connection receives live: those before it
	 * were delivered before it existed, or are replayed when it joins the log; every publication of a later
	 * generation is live. Touched only by the {@link Dispatcher}'s thread (and set before the source is
	 * published to it).
	 */
	int liveGeneration;

	long liveFrom;

	/** The application closed it before it joined the log: it is closed right after its join. Dispatcher only. */
	boolean closeAfterJoin;

	/**
	 * Create a source.
	 * @param start where it starts receiving publications live, or {@code null} for a source that waits to join
	 * the log (see {@link Dispatcher#join}) before it receives anything
	 */
	DefaultEventSource(@Nullable String identifier, @Nullable String remoteAddress, ConnectionSettings settings,
			SourceHost host, PublicationLog.@Nullable Resume start) {
		this.liveGeneration = (start != null) ? start.generation() : Integer.MAX_VALUE;
		this.liveFrom = (start != null) ? start.after() + 1 : 0;
		this.identifier = identifier;
		this.remoteAddress = remoteAddress;
		this.settings = settings;
		this.host = host;
		this.queue = settings.newQueue();
		this.lifecycle = new ConnectionLifecycle(this.queue);
		// The first write commits the response headers, so the client sees the stream open at once.
		this.queue.add(Frame.control(settings.openFrame()));
		ResponseHeaders headers = new ResponseHeaders();
		this.connection = new SourceConnection(this, settings, host, this.queue, this.lifecycle, headers);
		this.writer = this.connection.writer();
		this.timers = this.connection.timers();
		this.intake = new SourceIntake(this, this.queue, this.lifecycle, headers, this.connection,
				settings.listeners());
	}

	/**
	 * Start the timers and tell the listeners; called once the source is registered.
	 */
	void start() {
		Listeners listeners = this.settings.listeners();
		listeners.notify((listener) -> listener.onOpen(this));
		// Registered only now, so that listeners hear of the close after the open even if the source already ended.
		this.lifecycle.onClosed((why) -> listeners.notify((listener) -> listener.onClose(this, why)));
		this.connection.startTimers();
	}

	// EventSource

	@Override
	public @Nullable String identifier() {
		return this.identifier;
	}

	@Override
	public EventSource header(String name, String value) {
		ResponseHeaders.check(name, value);
		this.intake.header(name, value);
		return this;
	}

	@Override
	public boolean send(Object data) {
		Assert.notNull(data, "Data must not be null");
		return this.host.sendFrom(this, data);
	}

	@Override
	public boolean send(ServerSentEvent<?> event) {
		Assert.notNull(event, "Event must not be null");
		return this.host.sendFrom(this, event);
	}

	@Override
	public boolean send(String eventName, Object data) {
		Assert.hasLength(eventName, "Event name must not be empty");
		Assert.notNull(data, "Data must not be null");
		return send(ServerSentEvent.builder(data).event(eventName).build());
	}

	@Override
	public CompletableFuture<CloseReason> waitForFail(Duration idleTimeout) {
		Assert.isTrue(!idleTimeout.isNegative() && !idleTimeout.isZero(), "Wait-for-fail timeout must be positive");
		this.connection.restartIdle();
		this.timers.startIdleTimeout(idleTimeout);
		return whenClosed();
	}

	@Override
	public CompletableFuture<CloseReason> keepAlive() {
		this.timers.stopIdleTimeout();
		return whenClosed();
	}

	@Override
	public EventSource withPing(Consumer<PingPolicy> configurer) {
		configurer.accept(this.timers);
		return this;
	}

	@Override
	public SseEmitter close() {
		this.host.close(this);
		return this.emitter;
	}

	@Override
	public boolean isOpen() {
		return this.intake.isOpen();
	}

	/**
	 * The application asked to close this source (see {@link SourceHost#close}); see {@link SourceIntake#requestClose}.
	 */
	boolean requestClose(Runnable append) {
		return this.intake.requestClose(append);
	}

	@Override
	public CompletableFuture<CloseReason> whenClosed() {
		return this.lifecycle.whenClosed();
	}

	@Override
	public EventSourceInfo info() {
		int queued;
		synchronized (this.queue) {
			queued = this.queue.events();
		}
		long lastWrite = this.connection.lastWriteMillis();
		return new EventSourceInfo(this.identifier, this.remoteAddress, this.openedAt,
				(lastWrite != 0) ? Instant.ofEpochMilli(lastWrite) : null, this.connection.eventsWritten(), queued);
	}

	@Override
	public SseEmitter emitter() {
		return this.emitter;
	}

	/**
	 * Return the number that names this source in the log's entries, unique in this application.
	 */
	long serial() {
		return this.serial;
	}

	/**
	 * Return whether this source has joined the log (or never had to). Called by the dispatcher's thread.
	 */
	boolean hasJoined() {
		return this.liveGeneration != Integer.MAX_VALUE;
	}

	/**
	 * Return whether this source receives a publication live: it was registered before it was delivered, and has
	 * joined the log before it. Called by the {@link Dispatcher}'s thread.
	 */
	boolean isLive(Publication entry) {
		return entry.generation() > this.liveGeneration
				|| (entry.generation() == this.liveGeneration && entry.position() >= this.liveFrom);
	}

	/**
	 * Return the side of this source that its transport sees.
	 */
	EventSourceConnection connection() {
		return this.connection;
	}

	/**
	 * Return this source's writer turn, for a caller that took the writer role through {@link #enqueue} and hands
	 * it to the pool itself.
	 */
	WriterPool.Turn turn() {
		return this.writer;
	}

	boolean isBound() {
		synchronized (this.queue) {
			return this.writer.isBound();
		}
	}

	@Nullable String remoteAddress() {
		return this.remoteAddress;
	}

	@Override
	public String toString() {
		return "EventSource[" + ((this.identifier != null) ? this.identifier : "anonymous") + "]";
	}

	// Queueing: see SourceIntake

	/**
	 * The application sends to this source; see {@link SourceIntake#sending}.
	 */
	boolean sending(Runnable append) {
		return this.intake.sending(append);
	}

	/**
	 * Queue an event for the dispatcher, which must then {@link #settle} it; see {@link SourceIntake#enqueue}.
	 */
	SourceIntake.Offer enqueue(byte @Nullable [] idLine, byte[] bytes) {
		return this.intake.enqueue(idLine, bytes);
	}

	/**
	 * The second half of {@link #enqueue}, to run with no lock held; see {@link SourceIntake#settle}.
	 */
	boolean settle(SourceIntake.Offer offer) {
		return this.intake.settle(offer);
	}

	/**
	 * Join the log (see {@link Dispatcher#join}): queue what the client is owed (see {@link SourceIntake#join});
	 * from then on it receives the publications from position {@code liveFrom} of that generation. Called by the
	 * dispatcher's thread.
	 */
	void join(List<Publication> missed, byte @Nullable [] reset, byte[] position, int liveGeneration,
			long liveFrom) {
		this.liveGeneration = liveGeneration;
		this.liveFrom = liveFrom;
		this.intake.join(missed, reset, position);
	}

	// Ending

	/**
	 * End the source; see {@link SourceConnection#end}.
	 */
	void end(CloseReason why, boolean graceful, boolean closeEvent, byte @Nullable [] retry,
			@Nullable Throwable cause) {
		this.connection.end(why, graceful, closeEvent, retry, cause);
	}

	/**
	 * The request that opened this source finished its handler without starting a stream: a source the handler did
	 * not return (it returned something else or threw) can never reach the client.
	 */
	void requestEnded() {
		this.connection.bindDeadlinePassed();
	}

}
