package io.github.sisksse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.util.Assert;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter.DataWithMediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.util.DisconnectedClientHelper;

/**
 * The one class where an event source's concurrency lives.
 * <p>
 * <b>Thread safety.</b> All mutable state is guarded by {@link #lock}, which is only ever held for a few field
 * updates and never while writing to the network or running user code. Events are encoded by the sending thread
 * before the lock is taken, then appended to a bounded queue. A writer task, submitted to the registry's shared
 * writer executor only while none is active for this source ({@link #writerActive}), drains the whole queue and
 * writes it with one {@link SseEmitter#send(Set)}, i.e. one write and one flush, and repeats until the queue is
 * empty. So at most one thread writes to the emitter at a time, every event is written whole, and events keep
 * the order in which they entered the queue. The writer is also the only thread that completes the emitter, so
 * no other thread ever waits on the emitter's own lock while a write to a slow client is blocked.
 * <p>
 * <b>Lifecycle.</b> {@code OPEN} accepts events. {@link #end} moves to {@code CLOSING} (graceful: the writer
 * writes what is queued, then completes the response) or straight to {@code CLOSED} (abrupt: the queue is
 * dropped). The first end wins and fixes the {@link CloseReason}; {@link #closed} is completed with it exactly
 * once. Timers (ping, wait-for-fail, lifetime) are single scheduled tasks on the shared scheduler that re-arm
 * themselves; they are cancelled when the source ends.
 */
final class DefaultEventSource implements EventSource {

	private static final Log logger = LogFactory.getLog(DefaultEventSource.class);

	private static final MediaType TEXT_EVENT_STREAM_UTF8 = new MediaType(MediaType.TEXT_EVENT_STREAM,
			StandardCharsets.UTF_8);

	private static final byte[] OPEN_COMMENT = EventEncoder.comment("");

	private static final AtomicLong CALLBACKS = new AtomicLong();

	/**
	 * Marks an event to be numbered by the source itself; compared by identity.
	 */
	static final byte[] LOCAL_ID = new byte[0];

	private final @Nullable String identifier;

	private final @Nullable String remoteAddress;

	private final Instant openedAt = Instant.now();

	private final DefaultEventSourceRegistry registry;

	private final Emitter emitter = new Emitter();

	private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();

	private final Ping ping;

	private final ReentrantLock lock = new ReentrantLock();

	// Guarded by lock

	private final ArrayDeque<Frame> queue = new ArrayDeque<>();

	private int queuedEvents;

	private long localIds;

	private long queuedBytes;

	private State state = State.OPEN;

	private @Nullable CloseReason reason;

	private boolean writerActive;

	private boolean responseStarted;

	private boolean eventSent;

	private boolean emitterCompleted;

	private boolean writeFailed;

	private final HttpHeaders userHeaders = new HttpHeaders();

	private @Nullable Duration idleTimeout;

	private @Nullable Timer idleTask;

	private @Nullable Timer lifetimeTask;

	// Written by one thread at a time, read by timers and container callbacks

	private volatile boolean containerDone;

	private volatile long lastWriteNanos = System.nanoTime();

	private volatile long idleSinceNanos = System.nanoTime();

	private volatile long lastWriteMillis;

	private volatile long eventsWritten;

	DefaultEventSource(@Nullable String identifier, @Nullable String remoteAddress,
			DefaultEventSourceRegistry registry) {
		this.identifier = identifier;
		this.remoteAddress = remoteAddress;
		this.registry = registry;
		this.ping = new Ping(registry.settings);
		// The first write commits the response headers, so the client sees the stream open at once.
		Duration retry = registry.settings.retry;
		this.queue.add(new Frame((retry != null) ? EventEncoder.retry(retry) : OPEN_COMMENT, Kind.CONTROL));
		this.emitter.onCompletion(() -> containerEnded(CloseReason.CLIENT_GONE, null));
		this.emitter.onError((ex) -> containerEnded(
				DisconnectedClientHelper.isClientDisconnectedException(ex) ? CloseReason.CLIENT_GONE : CloseReason.ERROR,
				ex));
		this.emitter.onTimeout(() -> containerEnded(CloseReason.LIFETIME_EXPIRED, null));
	}

	/**
	 * Start the timers; called once the source is registered.
	 */
	void start() {
		this.registry.notify((listener) -> listener.onOpen(this));
		// Registered only now, so that listeners hear of the close after the open even if the source already ended.
		this.closed.thenAccept((reason) -> this.registry.notify((listener) -> listener.onClose(this, reason)));
		EventSourceRegistry.Builder settings = this.registry.settings;
		this.lock.lock();
		try {
			if (this.state != State.OPEN) {
				return;
			}
			if (settings.maxLifetime != null) {
				this.lifetimeTask = schedule((self) -> end(CloseReason.LIFETIME_EXPIRED, true, false, null),
						settings.maxLifetime.toNanos());
			}
			if (settings.waitForFail != null) {
				armIdleTimeout(settings.waitForFail);
			}
			if (settings.pingEnabled) {
				this.ping.startLocked();
			}
		}
		finally {
			this.lock.unlock();
		}
		// Only for a handler that finished without going async: one returning CompletableFuture<EventSource> or
		// DeferredResult<SseEmitter> hands the emitter over later, which cannot be told from here.
		if (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes request) {
			request.registerDestructionCallback(DefaultEventSource.class.getName() + "#" + CALLBACKS.incrementAndGet(),
					() -> {
						if (!request.getRequest().isAsyncStarted()) {
							checkReturned();
						}
					}, RequestAttributes.SCOPE_REQUEST);
		}
	}

	/**
	 * Runs when the request that opened this source finishes its handler: a source whose emitter the handler did
	 * not return (it returned something else or threw) can never reach the client, so it must not stay registered.
	 */
	private void checkReturned() {
		boolean orphaned;
		this.lock.lock();
		try {
			orphaned = !this.responseStarted && this.state == State.OPEN;
		}
		finally {
			this.lock.unlock();
		}
		if (orphaned) {
			end(CloseReason.ERROR, false, false, new IllegalStateException("The handler did not return " + this));
		}
	}

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
		this.lock.lock();
		try {
			if (this.eventSent) {
				throw new IllegalStateException(
						"Cannot add header '" + name + "': an event was already sent; add headers before the first send");
			}
			if (this.responseStarted) {
				throw new IllegalStateException(
						"Cannot add header '" + name + "': the response headers were already written");
			}
			this.userHeaders.add(name, value);
		}
		finally {
			this.lock.unlock();
		}
		return this;
	}

	@Override
	public boolean send(Object data) {
		Assert.notNull(data, "Data must not be null");
		return this.registry.sendFrom(this, data);
	}

	@Override
	public boolean send(ServerSentEvent<?> event) {
		Assert.notNull(event, "Event must not be null");
		return this.registry.sendFrom(this, event);
	}

	@Override
	public CompletableFuture<CloseReason> waitForFail(Duration idleTimeout) {
		Assert.isTrue(!idleTimeout.isNegative() && !idleTimeout.isZero(), "Wait-for-fail timeout must be positive");
		this.lock.lock();
		try {
			if (this.state == State.OPEN) {
				this.idleSinceNanos = System.nanoTime();
				armIdleTimeout(idleTimeout);
			}
		}
		finally {
			this.lock.unlock();
		}
		return whenClosed();
	}

	@Override
	public CompletableFuture<CloseReason> keepAlive() {
		this.lock.lock();
		try {
			this.idleTimeout = null;
			this.idleTask = cancel(this.idleTask);
		}
		finally {
			this.lock.unlock();
		}
		return whenClosed();
	}

	@Override
	public EventSource withPing(Consumer<PingPolicy> configurer) {
		configurer.accept(this.ping);
		return this;
	}

	@Override
	public SseEmitter close() {
		end(CloseReason.CLOSED_BY_SERVER, true, true, null);
		return this.emitter;
	}

	@Override
	public boolean isOpen() {
		this.lock.lock();
		try {
			return this.state == State.OPEN;
		}
		finally {
			this.lock.unlock();
		}
	}

	@Override
	public CompletableFuture<CloseReason> whenClosed() {
		return this.closed.copy();
	}

	@Override
	public EventSourceInfo info() {
		int queued;
		this.lock.lock();
		try {
			queued = this.queuedEvents;
		}
		finally {
			this.lock.unlock();
		}
		long lastWrite = this.lastWriteMillis;
		return new EventSourceInfo(this.identifier, this.remoteAddress, this.openedAt,
				(lastWrite != 0) ? Instant.ofEpochMilli(lastWrite) : null, this.eventsWritten, queued);
	}

	@Nullable String remoteAddress() {
		return this.remoteAddress;
	}

	@Override
	public SseEmitter emitter() {
		return this.emitter;
	}

	@Override
	public String toString() {
		return "EventSource[" + ((this.identifier != null) ? this.identifier : "anonymous") + "]";
	}

	/**
	 * End the source. The first call wins; a later abrupt end only stops a graceful close that is still writing.
	 * @param why the reason, kept only if this is the first end
	 * @param graceful whether to write what is queued before completing the response
	 * @param closeEvent whether to write the configured close event last (graceful only)
	 * @param cause the failure, for the debug log
	 */
	void end(CloseReason why, boolean graceful, boolean closeEvent, @Nullable Throwable cause) {
		end(why, graceful, closeEvent, null, cause);
	}

	/**
	 * End the source, writing the given retry line before the close event (graceful only).
	 */
	void end(CloseReason why, boolean graceful, boolean closeEvent, byte @Nullable [] retry,
			@Nullable Throwable cause) {
		boolean submit;
		CloseReason finalReason;
		this.lock.lock();
		try {
			if (this.state == State.CLOSED || (this.state == State.CLOSING && graceful)) {
				return;
			}
			if (this.reason == null) {
				this.reason = why;
			}
			finalReason = this.reason;
			this.idleTask = cancel(this.idleTask);
			this.lifetimeTask = cancel(this.lifetimeTask);
			this.ping.cancelLocked();
			if (graceful) {
				this.state = State.CLOSING;
				if (retry != null) {
					this.queue.add(new Frame(retry, Kind.CONTROL));
				}
				byte[] event = this.registry.closeEvent;
				if (closeEvent && event != null) {
					this.queue.add(new Frame(event, Kind.CONTROL));
				}
			}
			else {
				this.state = State.CLOSED;
				this.queue.clear();
				this.queuedEvents = 0;
				this.queuedBytes = 0;
			}
			submit = activateWriter();
		}
		finally {
			this.lock.unlock();
		}
		if (logger.isDebugEnabled()) {
			logger.debug(this + " ending: " + why + ((cause != null) ? " (" + cause + ")" : ""));
		}
		this.registry.remove(this);
		if (!graceful) {
			this.closed.complete(finalReason);
		}
		if (submit) {
			submitWriter();
		}
	}

	private void containerEnded(CloseReason why, @Nullable Throwable cause) {
		if (why == CloseReason.ERROR && isOpen()) {
			// A client going away is routine (debug only); anything else the container reports is a real failure.
			logger.warn(this + " failed", cause);
		}
		this.containerDone = true;
		end(why, false, false, cause);
	}

	/**
	 * Called by the emitter while Spring MVC writes the response headers, just before it starts streaming.
	 */
	void onResponseStart(HttpHeaders headers) {
		boolean submit;
		this.lock.lock();
		try {
			headers.setContentType(TEXT_EVENT_STREAM_UTF8);
			headers.setCacheControl("no-cache");
			headers.set("X-Accel-Buffering", "no");
			this.userHeaders.forEach(headers::put);
			this.responseStarted = true;
			submit = activateWriter();
		}
		finally {
			this.lock.unlock();
		}
		if (submit) {
			submitWriter();
		}
	}

	/**
	 * Queue the events a reconnecting client missed, or the reset event when they are lost, ahead of any live
	 * event. Called under the registry's lock for this source's stream, before the source can receive anything
	 * else; not bounded by the queue limits, as the history has bounds of its own.
	 */
	void replay(List<StoredEvent> missed, byte @Nullable [] reset, byte @Nullable [] position) {
		this.lock.lock();
		try {
			for (StoredEvent event : missed) {
				if (event.frame().length > 0) {
					this.queue.add(new Frame(event.idLine(), event.frame(), Kind.REPLAYED));
				}
			}
			if (reset != null) {
				this.queue.add(new Frame(reset, Kind.CONTROL));
			}
			if (position != null) {
				this.queue.add(new Frame(position, Kind.CONTROL));
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Queue an encoded event. The bytes are never modified, so one array may be queued for many sources.
	 * @param idLine the {@code id:} line to write first; {@link #LOCAL_ID} to number the event from this source's
	 * own counter (no history); {@code null} when the event carries the application's id
	 * @param bytes the event
	 * @param ownSend whether the application sent it to this source, which fixes the headers; a broadcast does not
	 */
	boolean offer(byte @Nullable [] idLine, byte[] bytes, boolean ownSend) {
		return settle(enqueue(idLine, bytes, ownSend));
	}

	/**
	 * The first half of {@link #offer}: queue the event under this source's lock only, and say what is left to
	 * do. A caller holding a registry lock (the stream's) must call {@link #settle} after releasing it, because
	 * settling may end the source and so run listeners and user callbacks.
	 */
	Offer enqueue(byte @Nullable [] idLine, byte[] bytes, boolean ownSend) {
		boolean submit = false;
		boolean overflow = false;
		boolean dropped = false;
		EventSourceRegistry.Builder settings = this.registry.settings;
		this.lock.lock();
		try {
			if (this.state != State.OPEN) {
				return Offer.CLOSED;
			}
			this.eventSent |= ownSend;
			if (this.queuedEvents > 0 && (this.queuedEvents >= settings.queueMaxEvents
					|| this.queuedBytes + bytes.length > settings.queueMaxBytes)) {
				if (settings.overflow == OverflowPolicy.CLOSE) {
					overflow = true;
				}
				else {
					dropOldestUntilFits(bytes.length, settings);
					dropped = true;
				}
			}
			if (!overflow) {
				this.queue.add((idLine == LOCAL_ID) ? new Frame(null, ++this.localIds, bytes, Kind.EVENT)
						: new Frame(idLine, 0, bytes, Kind.EVENT));
				this.queuedEvents++;
				this.queuedBytes += bytes.length;
				submit = activateWriter();
			}
		}
		finally {
			this.lock.unlock();
		}
		return overflow ? Offer.OVERFLOWED : dropped ? (submit ? Offer.DROPPED_SUBMIT : Offer.DROPPED)
				: submit ? Offer.QUEUED_SUBMIT : Offer.QUEUED;
	}

	/**
	 * The second half of {@link #offer}, to run with no registry lock held.
	 * @return whether the event was queued
	 */
	boolean settle(Offer offer) {
		if (offer == Offer.OVERFLOWED || offer == Offer.DROPPED || offer == Offer.DROPPED_SUBMIT) {
			this.registry.notify((listener) -> listener.onOverflow(this));
		}
		if (offer == Offer.OVERFLOWED) {
			end(CloseReason.QUEUE_OVERFLOW, false, false, null);
		}
		if (offer == Offer.QUEUED_SUBMIT || offer == Offer.DROPPED_SUBMIT) {
			submitWriter();
		}
		return offer != Offer.OVERFLOWED && offer != Offer.CLOSED;
	}

	/**
	 * What {@link #enqueue} did, and so what {@link #settle} must do.
	 */
	enum Offer {

		QUEUED, QUEUED_SUBMIT, DROPPED, DROPPED_SUBMIT, OVERFLOWED, CLOSED

	}

	private void dropOldestUntilFits(int length, EventSourceRegistry.Builder settings) {
		Iterator<Frame> frames = this.queue.iterator();
		while (this.queuedEvents > 0 && frames.hasNext() && (this.queuedEvents >= settings.queueMaxEvents
				|| this.queuedBytes + length > settings.queueMaxBytes)) {
			Frame frame = frames.next();
			if (frame.kind == Kind.EVENT) {
				frames.remove();
				this.queuedEvents--;
				this.queuedBytes -= frame.bytes.length;
			}
		}
	}

	/**
	 * Claim the writer role if no writer is active and there is something to do. Call with the lock held.
	 * While the source is open, writing waits for the response to start, so that nothing piles up in the
	 * emitter's own unbounded early-send buffer; once the source ends, the writer runs anyway: Spring MVC replays
	 * what the emitter buffered and completes the response when the controller returns.
	 * @return whether the caller must submit the writer task
	 */
	private boolean activateWriter() {
		if (this.writerActive || this.emitterCompleted || (!this.responseStarted && this.state == State.OPEN)) {
			return false;
		}
		this.writerActive = true;
		return true;
	}

	/**
	 * Submit the writer task; the caller holds the writer role. If the executor refuses (it shuts down with the
	 * application), no writer will ever run, so this thread ends the source and completes the response itself.
	 */
	private void submitWriter() {
		try {
			this.registry.writers.execute(this::drain);
		}
		catch (RuntimeException ex) {
			end(CloseReason.SHUTDOWN, false, false, ex);
			boolean complete;
			this.lock.lock();
			try {
				complete = !this.emitterCompleted && !this.containerDone;
				this.emitterCompleted = true;
				this.writerActive = false;
			}
			finally {
				this.lock.unlock();
			}
			if (complete) {
				completeEmitter();
			}
		}
	}

	/**
	 * The writer task: write everything queued, repeatedly, then complete the response once the source ended.
	 */
	private void drain() {
		for (;;) {
			List<Frame> batch = null;
			boolean complete = false;
			boolean skipEmitter = false;
			this.lock.lock();
			try {
				if (!this.queue.isEmpty()) {
					batch = new ArrayList<>(this.queue);
					this.queue.clear();
					this.queuedEvents = 0;
					this.queuedBytes = 0;
				}
				else if (this.state != State.OPEN && !this.emitterCompleted) {
					this.emitterCompleted = true;
					complete = true;
					skipEmitter = this.containerDone || this.writeFailed;
				}
				else {
					this.writerActive = false;
					return;
				}
			}
			finally {
				this.lock.unlock();
			}
			if (batch != null) {
				write(batch);
			}
			else if (complete) {
				if (!skipEmitter) {
					completeEmitter();
				}
				finishClose();
			}
		}
	}

	private void write(List<Frame> batch) {
		int length = 0;
		for (Frame frame : batch) {
			length += frame.bytes.length + ((frame.idLine != null) ? frame.idLine.length
					: (frame.localId > 0) ? 5 + digits(frame.localId) : 0);
		}
		byte[] bytes = new byte[length];
		int offset = 0;
		boolean onlyPings = true;
		boolean activity = false;
		int events = 0;
		int pings = 0;
		for (Frame frame : batch) {
			if (frame.idLine != null) {
				System.arraycopy(frame.idLine, 0, bytes, offset, frame.idLine.length);
				offset += frame.idLine.length;
			}
			else if (frame.localId > 0) {
				offset = writeIdLine(frame.localId, bytes, offset);
			}
			System.arraycopy(frame.bytes, 0, bytes, offset, frame.bytes.length);
			offset += frame.bytes.length;
			onlyPings &= (frame.kind == Kind.PING);
			events += (frame.kind == Kind.EVENT || frame.kind == Kind.REPLAYED) ? 1 : 0;
			pings += (frame.kind == Kind.PING) ? 1 : 0;
			activity |= (frame.kind == Kind.EVENT || frame.kind == Kind.REPLAYED
					|| (frame.kind == Kind.PING && this.registry.settings.pingResetsWaitForFail));
		}
		this.registry.writeStarted(this);
		try {
			this.emitter.send(Set.of(new DataWithMediaType(bytes, TEXT_EVENT_STREAM_UTF8)));
			long now = System.nanoTime();
			this.lastWriteNanos = now;
			this.lastWriteMillis = System.currentTimeMillis();
			// Only the one active writer updates it; the lock hand-over between writers orders the updates.
			this.eventsWritten += events;
			if (activity) {
				this.idleSinceNanos = now;
			}
			int written = events;
			int pinged = pings;
			this.registry.notify((listener) -> {
				listener.onWrite(this, written, bytes.length);
				for (int i = 0; i < pinged; i++) {
					listener.onPing(this);
				}
			});
		}
		catch (IOException | RuntimeException ex) {
			this.lock.lock();
			try {
				this.writeFailed = (ex instanceof IOException);
			}
			finally {
				this.lock.unlock();
			}
			this.registry.notify((listener) -> listener.onWriteFailure(this, ex));
			CloseReason why = this.containerDone ? CloseReason.CLIENT_GONE
					: onlyPings ? CloseReason.PING_FAILED : CloseReason.SEND_FAILED;
			end(why, false, false, ex);
		}
		finally {
			this.registry.writeFinished(this);
		}
	}

	private void completeEmitter() {
		try {
			this.emitter.complete();
		}
		catch (RuntimeException ex) {
			logger.debug("Failed to complete " + this, ex);
		}
	}

	private void finishClose() {
		CloseReason finalReason;
		this.lock.lock();
		try {
			this.state = State.CLOSED;
			finalReason = this.reason;
		}
		finally {
			this.lock.unlock();
		}
		if (finalReason != null) {
			this.closed.complete(finalReason);
		}
	}

	private void armIdleTimeout(Duration timeout) {
		this.idleTimeout = timeout;
		this.idleTask = cancel(this.idleTask);
		this.idleTask = schedule(this::checkIdle, timeout.toNanos());
	}

	private void checkIdle(Timer self) {
		boolean expired = false;
		this.lock.lock();
		try {
			Duration timeout = this.idleTimeout;
			if (self.isCancelled() || timeout == null || this.state != State.OPEN) {
				return;
			}
			long idle = System.nanoTime() - this.idleSinceNanos;
			if (idle >= timeout.toNanos()) {
				expired = true;
			}
			else {
				this.idleTask = schedule(this::checkIdle, timeout.toNanos() - idle);
			}
		}
		finally {
			this.lock.unlock();
		}
		if (expired) {
			end(CloseReason.IDLE_TIMEOUT, true, true, null);
		}
	}

	/**
	 * Schedule a timer task on the shared scheduler. Called with the lock held. The task receives its own timer
	 * so that, once it holds the lock, it can tell whether it was cancelled or replaced meanwhile.
	 * @return the timer, or {@code null} if the scheduler refused it because it is shutting down (the registry
	 * then stops and closes this source)
	 */
	private @Nullable Timer schedule(Consumer<Timer> task, long delayNanos) {
		Timer timer = new Timer((self) -> {
			try {
				task.accept(self);
			}
			catch (RuntimeException ex) {
				// A timer must never throw into the scheduler; the source ends instead, and the failure is logged.
				logger.warn("Timer of " + this + " failed", ex);
				end(CloseReason.ERROR, false, false, ex);
			}
		});
		try {
			timer.future = this.registry.scheduler.schedule(timer, Instant.now().plusNanos(delayNanos));
		}
		catch (RejectedExecutionException ex) {
			logger.debug("Scheduler refused a timer of " + this + "; it is shutting down");
			return null;
		}
		return timer;
	}

	private static @Nullable Timer cancel(@Nullable Timer timer) {
		if (timer != null) {
			timer.cancel();
		}
		return null;
	}

	private enum State {

		OPEN, CLOSING, CLOSED

	}

	private enum Kind {

		/** An application event: counted against the queue bounds. */
		EVENT,

		/** A replayed event: bounded by the history, so neither counted against the queue bounds nor dropped. */
		REPLAYED,

		/** A ping: only queued when the queue is empty. */
		PING,

		/** The opening retry/comment and the close event: never refused. */
		CONTROL

	}

	/**
	 * A queued frame: its bytes, preceded on the wire by either a ready {@code id:} line or the source's own
	 * numbered id (written straight into the batch, so that numbering costs no allocation per event).
	 */
	private record Frame(byte @Nullable [] idLine, long localId, byte[] bytes, Kind kind) {

		Frame(byte @Nullable [] idLine, byte[] bytes, Kind kind) {
			this(idLine, 0, bytes, kind);
		}

		Frame(byte[] bytes, Kind kind) {
			this(null, 0, bytes, kind);
		}

	}

	private static int digits(long value) {
		int digits = 1;
		for (long rest = value / 10; rest > 0; rest /= 10) {
			digits++;
		}
		return digits;
	}

	/**
	 * Write {@code id: <id>\n} at the offset.
	 * @return the offset after it
	 */
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
	 * A scheduled task that lets go of its source when cancelled: a scheduler without remove-on-cancel (such as
	 * Spring Boot's) keeps cancelled tasks until their time, and must not keep ended sources reachable meanwhile.
	 */
	private static final class Timer implements Runnable {

		private volatile @Nullable Consumer<Timer> task;

		private volatile @Nullable ScheduledFuture<?> future;

		Timer(Consumer<Timer> task) {
			this.task = task;
		}

		@Override
		public void run() {
			Consumer<Timer> current = this.task;
			if (current != null) {
				current.accept(this);
			}
		}

		boolean isCancelled() {
			return this.task == null;
		}

		void cancel() {
			this.task = null;
			ScheduledFuture<?> scheduled = this.future;
			if (scheduled != null) {
				scheduled.cancel(false);
			}
		}

	}

	/**
	 * The emitter Spring MVC streams; tells the source when the response starts so that headers are added then.
	 */
	private final class Emitter extends SseEmitter {

		Emitter() {
			// Never time out in the container: lifetime and idle timeouts are the source's own.
			super(-1L);
		}

		@Override
		protected void extendResponse(ServerHttpResponse outputMessage) {
			onResponseStart(outputMessage.getHeaders());
			super.extendResponse(outputMessage);
		}

	}

	/**
	 * The ping policy: one self-re-arming task on the shared scheduler. Settings are volatile so that a change
	 * from any thread is seen at the next ping; the task itself is guarded by the source's lock.
	 */
	private final class Ping implements PingPolicy {

		private volatile Duration interval;

		private volatile byte[] frame;

		private boolean started;

		private @Nullable Timer task;

		Ping(EventSourceRegistry.Builder settings) {
			this.interval = settings.pingInterval;
			this.frame = registry.encoder.ping(settings.pingFormat, settings.pingMessage, settings.pingEventName);
		}

		@Override
		public PingPolicy interval(Duration interval) {
			Assert.isTrue(!interval.isNegative() && !interval.isZero(), "Ping interval must be positive");
			this.interval = interval;
			return this;
		}

		@Override
		public PingPolicy dataMessage(String message) {
			this.frame = registry.encoder.ping(Format.DATA, message, "");
			return this;
		}

		@Override
		public PingPolicy comment(String text) {
			this.frame = registry.encoder.ping(Format.COMMENT, text, "");
			return this;
		}

		@Override
		public PingPolicy event(String name, String data) {
			this.frame = registry.encoder.ping(Format.EVENT, data, name);
			return this;
		}

		@Override
		public void start() {
			lock.lock();
			try {
				startLocked();
			}
			finally {
				lock.unlock();
			}
		}

		@Override
		public void stop() {
			lock.lock();
			try {
				cancelLocked();
			}
			finally {
				lock.unlock();
			}
		}

		@Override
		public boolean isStarted() {
			lock.lock();
			try {
				return this.started;
			}
			finally {
				lock.unlock();
			}
		}

		void startLocked() {
			if (state != State.OPEN) {
				return;
			}
			cancelLocked();
			this.started = true;
			this.task = schedule(this::run, this.interval.toNanos());
		}

		void cancelLocked() {
			this.started = false;
			this.task = cancel(this.task);
		}

		private void run(Timer self) {
			long interval = this.interval.toNanos();
			long quiet = System.nanoTime() - lastWriteNanos;
			boolean submit = false;
			lock.lock();
			try {
				if (self.isCancelled() || !this.started || state != State.OPEN) {
					return;
				}
				boolean due = quiet >= interval;
				this.task = schedule(this::run, due ? interval : interval - quiet);
				// Skipped while anything waits to be written: that write keeps the connection busy anyway.
				if (due && queue.isEmpty() && responseStarted) {
					queue.add(new Frame(this.frame, Kind.PING));
					submit = activateWriter();
				}
			}
			finally {
				lock.unlock();
			}
			if (submit) {
				submitWriter();
			}
		}

	}

}
