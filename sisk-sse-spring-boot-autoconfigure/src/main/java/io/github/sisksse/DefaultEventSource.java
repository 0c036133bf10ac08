package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.util.Assert;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter.DataWithMediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.util.DisconnectedClientHelper;

/**
 * One connection: the facade that composes its outbound queue, its timers and the sink it writes to, and holds
 * the one lock that guards them.
 * <p>
 * <b>Thread safety.</b> The connection's monitor ({@code synchronized (this)}; not a separate lock object, as a
 * broadcast touches every connection and each object is one more cache miss) guards the queue, the lifecycle
 * state and the writer role, and is held only for a few field updates: never while writing, never while running listeners or user callbacks. Senders encode
 * on their own thread and append under the lock. The <em>writer role</em> ({@link #claimed}) is taken by whoever
 * finds work for an idle connection, and handed to the {@link WriterPool}; its holder is the only thread that
 * touches the sink, so bytes never interleave and events keep the order in which they were queued. A turn writes
 * one batch without blocking; if the client does not take it all, the connection waits, without a thread, for
 * the container's {@link #writable()}. The role is released on every path, failures included.
 * <p>
 * <b>Lifecycle.</b> {@code OPEN} accepts events. The first {@link #end} fixes the {@link CloseReason}: a graceful
 * end moves to {@code CLOSING} (what is queued is written, then the response completes), an abrupt one to
 * {@code CLOSED} (the queue is dropped and the response completed at once). {@link #closed} completes exactly
 * once, never under the lock.
 */
final class DefaultEventSource implements EventSource, EventSourceConnection, WriterPool.Turn, WriterPool.Stallable,
		ConnectionTimers.Owner {

	private static final Log logger = LogFactory.getLog(DefaultEventSource.class);

	private static final MediaType TEXT_EVENT_STREAM_UTF8 = new MediaType(MediaType.TEXT_EVENT_STREAM,
			StandardCharsets.UTF_8);

	/**
	 * Marks an event to be numbered by the connection itself; compared by identity.
	 */
	static final byte[] LOCAL_ID = new byte[0];

	private final @Nullable String identifier;

	private final @Nullable String remoteAddress;

	private final Instant openedAt = Instant.now();

	private final ConnectionSettings settings;

	private final Host host;

	private final ConnectionTimers timers;

	private final Emitter emitter = new Emitter(this);

	private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();

	// Guarded by this (the connection's lock)

	private final OutboundQueue queue;

	private State state = State.OPEN;

	private @Nullable CloseReason reason;

	private @Nullable HttpHeaders userHeaders;

	private boolean headersWritten;

	private boolean eventSent;

	private EventSourceConnection.@Nullable Sink sink;

	private boolean claimed;

	private boolean writable;

	private boolean signalled;

	private boolean flushPending;

	/** No byte can be written any more: the response was completed, by us or by the container. */
	private boolean responseDone;

	// Written by the writer-role holder or the container, read by timers and monitoring

	private volatile long lastWriteNanos = System.nanoTime();

	private volatile long idleSinceNanos = System.nanoTime();

	private volatile long stalledSinceNanos;

	private volatile long lastWriteMillis;

	private volatile long eventsWritten;

	DefaultEventSource(@Nullable String identifier, @Nullable String remoteAddress, ConnectionSettings settings,
			Host host) {
		this.identifier = identifier;
		this.remoteAddress = remoteAddress;
		this.settings = settings;
		this.host = host;
		this.queue = settings.newQueue();
		// The first write commits the response headers, so the client sees the stream open at once.
		this.queue.add(Frame.control(settings.openFrame()));
		this.timers = new ConnectionTimers(settings.scheduler(), settings.encoder(), settings.pingInterval(),
				settings.pingFrame(), this);
	}

	/**
	 * Start the timers and tell the listeners; called once the source is registered.
	 */
	void start() {
		Listeners listeners = this.settings.listeners();
		listeners.notify((listener) -> listener.onOpen(this));
		// Registered only now, so that listeners hear of the close after the open even if the source already ended.
		this.closed.thenAccept((why) -> listeners.notify((listener) -> listener.onClose(this, why)));
		this.timers.startBindDeadline(this.settings.bindTimeout());
		if (this.settings.maxLifetime() != null) {
			this.timers.startLifetime(this.settings.maxLifetime());
		}
		if (this.settings.waitForFail() != null) {
			this.timers.startIdleTimeout(this.settings.waitForFail());
		}
		if (this.settings.pingEnabled()) {
			this.timers.start();
		}
		if (!isOpen()) {
			// Ended while starting: the timers started after end() stopped them.
			this.timers.stopAll(true);
		}
	}

	// EventSource

	@Override
	public @Nullable String identifier() {
		return this.identifier;
	}

	@Override
	public EventSource header(String name, String value) {
		Assert.hasText(name, "Header name must not be empty");
		EventEncoder.checkNoLineBreak("Header name", name);
		EventEncoder.checkNoLineBreak("Header value", value);
		Assert.isTrue(name.indexOf(':') < 0, () -> "Header name must not contain ':': " + name);
		synchronized (this) {
			if (this.eventSent) {
				throw new IllegalStateException(
						"Cannot add header '" + name + "': an event was already sent; add headers before the first send");
			}
			if (this.headersWritten) {
				throw new IllegalStateException(
						"Cannot add header '" + name + "': the response headers were already written");
			}
			if (this.userHeaders == null) {
				this.userHeaders = new HttpHeaders();
			}
			this.userHeaders.add(name, value);
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
	public CompletableFuture<CloseReason> waitForFail(Duration idleTimeout) {
		Assert.isTrue(!idleTimeout.isNegative() && !idleTimeout.isZero(), "Wait-for-fail timeout must be positive");
		this.idleSinceNanos = System.nanoTime();
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
		synchronized (this) {
			return this.state == State.OPEN;
		}
	}

	@Override
	public CompletableFuture<CloseReason> whenClosed() {
		return this.closed.copy();
	}

	@Override
	public EventSourceInfo info() {
		int queued;
		synchronized (this) {
			queued = this.queue.events();
		}
		long lastWrite = this.lastWriteMillis;
		return new EventSourceInfo(this.identifier, this.remoteAddress, this.openedAt,
				(lastWrite != 0) ? Instant.ofEpochMilli(lastWrite) : null, this.eventsWritten, queued);
	}

	@Override
	public SseEmitter emitter() {
		return this.emitter;
	}

	boolean isBound() {
		synchronized (this) {
			return this.sink != null;
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
		synchronized (this) {
			if (this.state != State.OPEN) {
				return Offer.CLOSED;
			}
			this.eventSent |= ownSend;
			OutboundQueue.Offer offer = this.queue.offer(idLine, bytes);
			if (offer == OutboundQueue.Offer.OVERFLOWED) {
				return Offer.OVERFLOWED;
			}
			boolean turn = claimTurn();
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
			scheduleTurn();
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
		synchronized (this) {
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
	 * End the source. The first call wins; a later abrupt end only stops a graceful close that is still writing.
	 * @param why the reason, kept only if this is the first end
	 * @param graceful whether to write what is queued before completing the response
	 * @param closeEvent whether to write the configured close event last (graceful only)
	 * @param retry a retry line to write before the close event (graceful only)
	 * @param cause the failure, for the debug log
	 */
	void end(CloseReason why, boolean graceful, boolean closeEvent, byte @Nullable [] retry,
			@Nullable Throwable cause) {
		CloseReason finalReason;
		boolean turn;
		synchronized (this) {
			if (this.state == State.CLOSED || (this.state == State.CLOSING && graceful)) {
				return;
			}
			if (this.reason == null) {
				this.reason = why;
			}
			finalReason = this.reason;
			if (graceful) {
				this.state = State.CLOSING;
				if (retry != null) {
					this.queue.add(Frame.control(retry));
				}
				byte[] event = this.settings.closeEvent();
				if (closeEvent && event != null) {
					this.queue.add(Frame.control(event));
				}
			}
			else {
				this.state = State.CLOSED;
				this.queue.clear();
				// Ends the write timeout's watch; a graceful end keeps it, as it still needs the client to read.
				this.settings.writers().unstalled(this);
			}
			turn = claimTurn();
		}
		this.timers.stopAll(graceful);
		if (logger.isDebugEnabled()) {
			logger.debug(this + " ending: " + why + ((cause != null) ? " (" + cause + ")" : ""));
		}
		this.host.ended(this);
		if (!graceful) {
			this.closed.complete(finalReason);
		}
		if (turn) {
			scheduleTurn();
		}
	}

	// EventSourceConnection: called by the transport

	@Override
	public void prepareResponse(HttpHeaders headers) {
		synchronized (this) {
			headers.setContentType(TEXT_EVENT_STREAM_UTF8);
			headers.setCacheControl("no-cache");
			headers.set("X-Accel-Buffering", "no");
			if (this.userHeaders != null) {
				this.userHeaders.forEach(headers::put);
			}
			this.headersWritten = true;
		}
	}

	@Override
	public boolean isFinished() {
		synchronized (this) {
			return this.state == State.CLOSED;
		}
	}

	@Override
	public void bind(Sink sink) {
		synchronized (this) {
			Assert.state(this.sink == null, "Already bound");
			this.sink = sink;
			this.headersWritten = true;
			// Nothing is written before the container first says it may be: count that as a stall.
			if (!this.writable && this.state != State.CLOSED) {
				this.stalledSinceNanos = System.nanoTime();
				this.settings.writers().stalled(this);
			}
		}
		this.timers.stopBindDeadline();
		// Ended between the handler's return and now: complete the response.
		scheduleIfClaimed();
	}

	@Override
	public void writable() {
		synchronized (this) {
			this.writable = true;
			this.signalled = true;
			this.queue.accepted();
			this.settings.writers().unstalled(this);
		}
		scheduleIfClaimed();
	}

	@Override
	public void failed(Throwable failure) {
		boolean gone = DisconnectedClientHelper.isClientDisconnectedException(failure);
		if (!gone && isOpen()) {
			// A client going away is routine (debug only); anything else the container reports is a real failure.
			logger.warn(this + " failed", failure);
		}
		end(gone ? CloseReason.CLIENT_GONE : CloseReason.ERROR, false, false, null, failure);
	}

	@Override
	public void completed() {
		synchronized (this) {
			this.responseDone = true;
			this.settings.writers().unstalled(this);
		}
		end(CloseReason.CLIENT_GONE, false, false, null, null);
		finishClose();
	}

	// The writer role

	/**
	 * Take the writer role if a turn is needed and nobody holds it. Call with the lock held.
	 * @return whether the caller now holds the role and must schedule a turn
	 */
	private boolean claimTurn() {
		if (this.claimed || this.sink == null || this.responseDone) {
			return false;
		}
		boolean work = this.state == State.CLOSED || (this.writable
				&& (!this.queue.isEmpty() || this.state == State.CLOSING || this.flushPending));
		this.claimed = work;
		return work;
	}

	private void scheduleIfClaimed() {
		boolean turn;
		synchronized (this) {
			turn = claimTurn();
		}
		if (turn) {
			scheduleTurn();
		}
	}

	/**
	 * Hand the writer role to the pool. If the pool has stopped (the application shuts down), end the source and
	 * complete its response on this thread: completing never blocks.
	 */
	private void scheduleTurn() {
		if (!this.settings.writers().schedule(this)) {
			abandon();
		}
	}

	@Override
	public void abandon() {
		end(CloseReason.SHUTDOWN, false, false, null, null);
		run();
	}

	/**
	 * One writer turn, on a worker holding the writer role: write one batch (or complete the response), then
	 * release the role or queue the next turn behind the other connections.
	 */
	@Override
	public void run() {
		boolean again = false;
		try {
			again = turn();
		}
		catch (Throwable ex) {
			writeFailed(ex, false);
		}
		finally {
			if (!again) {
				release();
			}
		}
		if (again) {
			scheduleTurn();
		}
	}

	/**
	 * @return whether another turn is needed now
	 */
	private boolean turn() {
		OutboundQueue.Batch batch = null;
		Sink target;
		boolean complete = false;
		synchronized (this) {
			target = this.sink;
			if (target == null || this.responseDone) {
				return false;
			}
			if (this.state == State.CLOSED) {
				complete = true;
			}
			else if (!this.writable) {
				return false;
			}
			else {
				batch = this.queue.take();
				if (batch == null && !this.flushPending) {
					if (this.state == State.OPEN) {
						return false;
					}
					complete = true;
				}
				this.signalled = false;
			}
		}
		if (complete) {
			completeResponse();
			return false;
		}
		boolean onlyPings = batch != null && batch.events() == 0 && batch.pings() > 0;
		boolean ready;
		try {
			ready = target.write((batch != null) ? batch.bytes() : null);
		}
		catch (Throwable ex) {
			writeFailed(ex, onlyPings);
			return false;
		}
		if (batch != null) {
			written(batch);
		}
		boolean again;
		synchronized (this) {
			this.flushPending = !ready;
			if (ready) {
				this.queue.accepted();
			}
			else if (!this.signalled) {
				this.writable = false;
				this.stalledSinceNanos = System.nanoTime();
				this.settings.writers().stalled(this);
			}
			again = this.state == State.CLOSED || (this.writable
					&& (!this.queue.isEmpty() || this.state == State.CLOSING || this.flushPending));
		}
		return again;
	}

	/**
	 * Give the writer role up, or keep it for work that arrived while it was held (and so found it taken).
	 */
	private void release() {
		boolean turn;
		synchronized (this) {
			this.claimed = false;
			turn = claimTurn();
		}
		if (turn) {
			scheduleTurn();
		}
	}

	private void written(OutboundQueue.Batch batch) {
		long now = System.nanoTime();
		this.lastWriteNanos = now;
		this.lastWriteMillis = System.currentTimeMillis();
		// Only the writer-role holder updates it; the lock hand-over between holders orders the updates.
		this.eventsWritten += batch.events();
		if (batch.activity() || (batch.pings() > 0 && this.settings.pingResetsWaitForFail())) {
			this.idleSinceNanos = now;
		}
		int events = batch.events();
		int pings = batch.pings();
		int bytes = batch.bytes().length;
		this.settings.listeners().notify((listener) -> {
			listener.onWrite(this, events, bytes);
			for (int i = 0; i < pings; i++) {
				listener.onPing(this);
			}
		});
	}

	private void writeFailed(Throwable failure, boolean onlyPings) {
		boolean containerDone;
		synchronized (this) {
			containerDone = this.responseDone;
		}
		this.settings.listeners().notify((listener) -> listener.onWriteFailure(this, failure));
		CloseReason why = containerDone ? CloseReason.CLIENT_GONE
				: onlyPings ? CloseReason.PING_FAILED : CloseReason.SEND_FAILED;
		if (failure instanceof Error && !(failure instanceof VirtualMachineError)) {
			logger.warn(this + " writer failed", failure);
		}
		end(why, false, false, null, failure);
		completeResponse();
	}

	/**
	 * Complete the response once, on the writer-role holder, and mark the source closed.
	 */
	private void completeResponse() {
		Sink target;
		synchronized (this) {
			if (this.responseDone) {
				target = null;
			}
			else {
				this.responseDone = true;
				target = this.sink;
			}
			this.settings.writers().unstalled(this);
		}
		if (target != null) {
			try {
				target.complete();
			}
			catch (RuntimeException ex) {
				logger.debug("Failed to complete " + this, ex);
			}
		}
		finishClose();
	}

	private void finishClose() {
		CloseReason finalReason;
		synchronized (this) {
			this.state = State.CLOSED;
			finalReason = this.reason;
		}
		if (finalReason != null) {
			this.closed.complete(finalReason);
		}
	}

	// Stallable

	@Override
	public long stalledSinceNanos() {
		return this.stalledSinceNanos;
	}

	@Override
	public void writeTimedOut(long stalledSince) {
		boolean stalled;
		synchronized (this) {
			// Still the same stall: a client that drained and stalled again since has a new deadline.
			stalled = !this.writable && !this.responseDone && this.stalledSinceNanos == stalledSince;
		}
		if (stalled) {
			end(CloseReason.WRITE_TIMEOUT, false, false, null, null);
		}
	}

	// ConnectionTimers.Owner

	@Override
	public long idleSinceNanos() {
		return this.idleSinceNanos;
	}

	@Override
	public long lastWriteNanos() {
		return this.lastWriteNanos;
	}

	@Override
	public void expire(CloseReason why) {
		switch (why) {
			case IDLE_TIMEOUT -> end(why, true, true, null, null);
			// At max lifetime the client should reconnect, so no close event.
			case LIFETIME_EXPIRED -> end(why, true, false, null, null);
			default -> end(why, false, false, null, null);
		}
	}

	@Override
	public void ping(byte[] frame) {
		boolean turn = false;
		synchronized (this) {
			if (this.state == State.OPEN && this.sink != null && this.queue.offerPing(frame)) {
				turn = claimTurn();
			}
		}
		if (turn) {
			scheduleTurn();
		}
	}

	@Override
	public void bindDeadlinePassed() {
		boolean unbound;
		synchronized (this) {
			unbound = this.sink == null && this.state != State.CLOSED;
		}
		if (unbound) {
			end(CloseReason.ERROR, false, false, null, new IllegalStateException(this
					+ " was not returned by a request handler within " + this.settings.bindTimeout()));
		}
	}

	/**
	 * The request that opened this source finished its handler without starting a stream: a source the handler did
	 * not return (it returned something else or threw) can never reach the client.
	 */
	void requestEnded() {
		bindDeadlinePassed();
	}

	private enum State {

		OPEN, CLOSING, CLOSED

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

	/**
	 * The emitter a controller may return instead of the source ({@code return source.close();}). Writing to it
	 * directly is not supported: events go through the source, which owns the response.
	 */
	static final class Emitter extends SseEmitter {

		private final DefaultEventSource source;

		Emitter(DefaultEventSource source) {
			super(-1L);
			this.source = source;
		}

		DefaultEventSource source() {
			return this.source;
		}

		@Override
		public void send(Object object) {
			throw unsupported();
		}

		@Override
		public void send(Object object, @Nullable MediaType mediaType) {
			throw unsupported();
		}

		@Override
		public void send(SseEventBuilder builder) {
			throw unsupported();
		}

		@Override
		public void send(Set<DataWithMediaType> items) {
			throw unsupported();
		}

		@Override
		public void complete() {
			this.source.close();
		}

		@Override
		public void completeWithError(Throwable ex) {
			this.source.end(CloseReason.ERROR, false, false, null, ex);
		}

		private UnsupportedOperationException unsupported() {
			return new UnsupportedOperationException(
					"Send through the EventSource (" + this.source + "), not its emitter: the source owns the response");
		}

	}

}
