package io.github.sisksse;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.web.util.DisconnectedClientHelper;

/**
 * The side of a {@link DefaultEventSource} that is told what happens below it: what its transport reports (as its
 * {@link EventSourceConnection}), its timers and its writer; and the ending of the source ({@link #end}), where
 * most of those reports lead. The source serves what the application and the registry ask; this class acts on the
 * same parts (queue, lifecycle, headers), and creates and owns the writer and the timers, which report to it.
 * <p>
 * <b>Thread safety.</b> No lock of its own: what it shares with the source is guarded by the connection's monitor,
 * that of its private {@link OutboundQueue}, held only for a few field updates and never while writing, running
 * listeners or completing the {@code closed} future. Its activity counters are volatile: written by the
 * writer-role holder (or the application, for the idle time), read by the timers and by monitoring.
 */
final class SourceConnection implements EventSourceConnection, ConnectionTimers.Owner, ConnectionWriter.Owner {

	// The source's category, which applications configure.
	private static final Log logger = LogFactory.getLog(DefaultEventSource.class);

	private final DefaultEventSource source;

	private final ConnectionSettings settings;

	private final SourceHost host;

	private final OutboundQueue queue;

	private final ConnectionLifecycle lifecycle;

	private final ResponseHeaders headers;

	private final ConnectionWriter writer;

	private final ConnectionTimers timers;

	// Written by the writer-role holder or the container, read by timers and monitoring; the nanos are stamped
	// with the timers' own time, which they compare them with

	/** Whether the container called back once that the sink is writable. Guarded by the queue's monitor. */
	private boolean calledBack;

	private volatile long lastWriteNanos;

	private volatile long idleSinceNanos;

	private volatile long lastWriteMillis;

	private volatile long eventsWritten;

	SourceConnection(DefaultEventSource source, ConnectionSettings settings, SourceHost host,
			OutboundQueue queue, ConnectionLifecycle lifecycle, ResponseHeaders headers) {
		this.source = source;
		this.settings = settings;
		this.host = host;
		this.queue = queue;
		this.lifecycle = lifecycle;
		this.headers = headers;
		this.writer = new ConnectionWriter(queue, lifecycle, settings.writers(), this, logger);
		this.timers = new ConnectionTimers(settings.scheduler(), settings.encoder(), settings.pingInterval(),
				settings.pingFrame(), this);
		this.lastWriteNanos = this.timers.nanoTime();
		this.idleSinceNanos = this.lastWriteNanos;
	}

	ConnectionWriter writer() {
		return this.writer;
	}

	ConnectionTimers timers() {
		return this.timers;
	}

	/**
	 * Start the timers the settings ask for; a source that ended meanwhile stops them again.
	 */
	void startTimers() {
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
		if (!this.source.isOpen()) {
			// Ended while starting: the timers started after end() stopped them.
			this.timers.stopAll(true);
		}
	}

	/**
	 * Restart the idle time, for a new wait-for-fail timeout.
	 */
	void restartIdle() {
		this.idleSinceNanos = this.timers.nanoTime();
	}

	long lastWriteMillis() {
		return this.lastWriteMillis;
	}

	long eventsWritten() {
		return this.eventsWritten;
	}

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
		synchronized (this.queue) {
			finalReason = this.lifecycle.end(why, graceful);
			if (finalReason == null) {
				return;
			}
			if (graceful) {
				if (retry != null) {
					this.queue.add(Frame.control(retry));
				}
				byte[] event = this.settings.closeEvent();
				if (closeEvent && event != null) {
					this.queue.add(Frame.control(event));
				}
			}
			else {
				this.queue.clear();
				// Ends the write timeout's watch; a graceful end keeps it, as it still needs the client to read.
				this.writer.aborted();
			}
			turn = this.writer.claim();
		}
		this.timers.stopAll(graceful);
		if (logger.isDebugEnabled()) {
			logger.debug(this.source + " ending: " + why + ((cause != null) ? " (" + cause + ")" : ""));
		}
		this.host.ended(this.source);
		if (!graceful) {
			this.lifecycle.complete(finalReason);
		}
		if (turn) {
			this.writer.schedule();
		}
	}

	// EventSourceConnection: called by the transport

	@Override
	public void prepareResponse(HttpHeaders headers) {
		synchronized (this.queue) {
			this.headers.writeTo(headers);
		}
	}

	@Override
	public boolean isFinished() {
		synchronized (this.queue) {
			return this.lifecycle.isClosed();
		}
	}

	@Override
	public void bind(Sink sink) {
		synchronized (this.queue) {
			this.writer.bind(sink);
			this.headers.committed();
		}
		this.timers.stopBindDeadline();
		// Ended between the handler's return and now: complete the response.
		this.writer.scheduleIfWork();
	}

	@Override
	public void writable() {
		synchronized (this.queue) {
			this.writer.writable();
		}
		this.writer.scheduleIfWork();
	}

	@Override
	public void writePossible() {
		// The first callback (the container's answer to setWriteListener) takes the first write on the container's
		// thread: that is the write that meets a client that reset its connection at once (see the interface). Later
		// ones hand the writing to the pool, so that a burst to many clients keeps the container's threads free.
		// Writable and claimed in one hold of the monitor: a sender, ping or close that took the monitor in between
		// would otherwise see the writer writable, claim it and give the first write to the pool.
		boolean turn = false;
		synchronized (this.queue) {
			this.writer.writable();
			if (!this.calledBack) {
				this.calledBack = true;
				turn = this.writer.claim();
			}
		}
		if (turn) {
			this.writer.run();
		}
		else {
			this.writer.scheduleIfWork();
		}
	}

	@Override
	public void failed(Throwable failure) {
		boolean gone = DisconnectedClientHelper.isClientDisconnectedException(failure);
		if (!gone && this.source.isOpen()) {
			// A client going away is routine (debug only); anything else the container reports is a real failure.
			logger.warn(this.source + " failed", failure);
		}
		end(gone ? CloseReason.CLIENT_GONE : CloseReason.ERROR, false, false, null, failure);
	}

	@Override
	public void completed() {
		synchronized (this.queue) {
			this.writer.responseCompleted();
		}
		end(CloseReason.CLIENT_GONE, false, false, null, null);
		this.lifecycle.finish();
	}

	// ConnectionWriter.Owner

	@Override
	public void written(OutboundQueue.Batch batch) {
		long now = this.timers.nanoTime();
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
			listener.onWrite(this.source, events, bytes);
			for (int i = 0; i < pings; i++) {
				listener.onPing(this.source);
			}
		});
	}

	@Override
	public void writeFailed(Throwable failure, CloseReason why) {
		this.settings.listeners().notify((listener) -> listener.onWriteFailure(this.source, failure));
		if (failure instanceof Error && !(failure instanceof VirtualMachineError)) {
			logger.warn(this.source + " writer failed", failure);
		}
		end(why, false, false, null, failure);
	}

	@Override
	public void abort(CloseReason why) {
		end(why, false, false, null, null);
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
		synchronized (this.queue) {
			if (this.lifecycle.isOpen() && this.writer.isBound() && this.queue.offerPing(frame)) {
				turn = this.writer.claim();
			}
		}
		if (turn) {
			this.writer.schedule();
		}
	}

	@Override
	public void bindDeadlinePassed() {
		boolean unbound;
		synchronized (this.queue) {
			unbound = !this.writer.isBound() && !this.lifecycle.isClosed();
		}
		if (unbound) {
			end(CloseReason.ERROR, false, false, null, new IllegalStateException(this.source
					+ " was not returned by a request handler within " + this.settings.bindTimeout()));
		}
	}

	@Override
	public String toString() {
		return this.source.toString();
	}

}
