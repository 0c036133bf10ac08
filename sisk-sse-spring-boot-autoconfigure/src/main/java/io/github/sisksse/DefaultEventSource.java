package io.github.sisksse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.util.Assert;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * One connection: the facade that the application and the registry call. It composes the {@link OutboundQueue},
 * the {@link ConnectionLifecycle}, the {@link ResponseHeaders}, the {@link ConnectionWriter} (the sink and the
 * writer role) and the {@link ConnectionTimers}; its {@link SourceConnection} is the side that the transport, the
 * timers and the writer report to, and the one that ends the source.
 * <p>
 * <b>Thread safety.</b> The monitor of the connection's private {@link OutboundQueue} is the one lock of the
 * connection (not a lock object of its own, as a broadcast touches every connection and each object is one more
 * cache miss; not this object, which the application holds):
 * it guards the queue, the lifecycle state, the headers and the writer role, whose classes have no lock of their
 * own. It is held only for a few field updates: never while writing, never while running listeners or user
 * callbacks. Senders encode on their own thread and append under the lock.
 * <p>
 * <b>Lifecycle.</b> {@code OPEN} accepts events. The first {@link #end} fixes the {@link CloseReason}: a graceful
 * end moves to {@code CLOSING} (what is queued is written, then the response completes), an abrupt one to
 * {@code CLOSED} (the queue is dropped and the response completed at once). {@link #whenClosed()} completes
 * exactly once, never under the lock.
 */
final class DefaultEventSource implements EventSource {

	/**
	 * Marks an event to be numbered by the connection itself; compared by identity.
	 */
	static final byte[] LOCAL_ID = new byte[0];

	private final @Nullable String identifier;

	private final @Nullable String remoteAddress;

	private final Instant openedAt = Instant.now();

	private final ConnectionSettings settings;

	private final Host host;

	private final SourceEmitter emitter = new SourceEmitter(this);

	private final SourceConnection connection;

	private final ConnectionTimers timers;

	/** The connection's queue, and its monitor: the one lock of the connection. */
	private final OutboundQueue queue;

	// Guarded by the queue's monitor

	private final ConnectionLifecycle lifecycle;

	private final ResponseHeaders headers = new ResponseHeaders();

	private final ConnectionWriter writer;

	DefaultEventSource(@Nullable String identifier, @Nullable String remoteAddress, ConnectionSettings settings,
			Host host) {
		this.identifier = identifier;
		this.remoteAddress = remoteAddress;
		this.settings = settings;
		this.host = host;
		this.queue = settings.newQueue();
		this.lifecycle = new ConnectionLifecycle(this.queue);
		// The first write commits the response headers, so the client sees the stream open at once.
		this.queue.add(Frame.control(settings.openFrame()));
		this.connection = new SourceConnection(this, settings, host, this.queue, this.lifecycle, this.headers);
		this.writer = this.connection.writer();
		this.timers = this.connection.timers();
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
		synchronized (this.queue) {
			this.headers.add(name, value);
		}
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
		end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
		return this.emitter;
	}

	@Override
	public boolean isOpen() {
		synchronized (this.queue) {
			return this.lifecycle.isOpen();
		}
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

	// Queueing

	/**
	 * Queue an encoded event. The bytes are never modified, so one array may be queued for many sources.
	 * @param idLine the {@code id:} line to write first; {@link #LOCAL_ID} to number the event from this source's
	 * own counter; {@code null} when the event carries the application's id
	 * @param bytes the event
	 * @param ownSend whether the application sent it to this source, which fixes the headers; a broadcast does not
	 * @return whether the event was queued
	 */
	boolean offer(byte @Nullable [] idLine, byte[] bytes, boolean ownSend) {
		return settle(enqueue(idLine, bytes, ownSend));
	}

	/**
	 * The first half of {@link #offer}: queue the event under this source's lock only, and say what is left to
	 * do. A caller holding a lock of the registry must call {@link #settle} after releasing it, because settling
	 * may end the source and so run listeners and user callbacks.
	 */
	Offer enqueue(byte @Nullable [] idLine, byte[] bytes, boolean ownSend) {
		synchronized (this.queue) {
			if (!this.lifecycle.isOpen()) {
				return Offer.CLOSED;
			}
			this.headers.sent(ownSend);
			OutboundQueue.Offer offer = this.queue.offer(idLine, bytes);
			if (offer == OutboundQueue.Offer.OVERFLOWED) {
				return Offer.OVERFLOWED;
			}
			boolean turn = this.writer.claim();
			return (offer == OutboundQueue.Offer.DROPPED_OLDEST) ? (turn ? Offer.DROPPED_TURN : Offer.DROPPED)
					: (turn ? Offer.QUEUED_TURN : Offer.QUEUED);
		}
	}

	/**
	 * The second half of {@link #offer}, to run with no registry lock held.
	 * @return whether the event was queued
	 */
	boolean settle(Offer offer) {
		if (offer == Offer.OVERFLOWED || offer == Offer.DROPPED || offer == Offer.DROPPED_TURN) {
			this.settings.listeners().notify((listener) -> listener.onOverflow(this));
		}
		if (offer == Offer.OVERFLOWED) {
			end(CloseReason.QUEUE_OVERFLOW, false, false, null, null);
		}
		if (offer == Offer.QUEUED_TURN || offer == Offer.DROPPED_TURN) {
			this.writer.schedule();
		}
		return offer != Offer.OVERFLOWED && offer != Offer.CLOSED;
	}

	/**
	 * What {@link #enqueue} did, and so what {@link #settle} must do.
	 */
	enum Offer {

		QUEUED, QUEUED_TURN, DROPPED, DROPPED_TURN, OVERFLOWED, CLOSED

	}

	/**
	 * Queue the events a reconnecting client missed, or the reset event when they are lost, ahead of any live
	 * event. Called under the registry's lock for this source's stream, before the source can receive anything
	 * else; not bounded by the queue limits, as the history has bounds of its own.
	 */
	void replay(List<StoredEvent> missed, byte @Nullable [] reset, byte @Nullable [] position) {
		synchronized (this.queue) {
			for (StoredEvent event : missed) {
				if (event.frame().length > 0) {
					this.queue.add(new Frame(event.idLine(), 0, event.frame(), Frame.Kind.REPLAYED));
				}
			}
			if (reset != null) {
				this.queue.add(Frame.control(reset));
			}
			if (position != null) {
				this.queue.add(Frame.control(position));
			}
		}
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

	/**
	 * What a source needs of its registry; implemented by the registry, so that the connection does not depend on
	 * it.
	 */
	interface Host {

		/**
		 * Send from this source: numbered and, with replay, recorded in its stream's history, then offered.
		 */
		boolean sendFrom(DefaultEventSource source, Object data);

		/**
		 * The source ended: forget it and release its place. Called once per end call; must be idempotent.
		 */
		void ended(DefaultEventSource source);

	}

}
