package io.github.sisksse;

import org.apache.commons.logging.Log;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * The writing side of one connection: the sink, the writer role, and the turns the {@link WriterPool} gives it,
 * each writing one batch of the connection's {@link OutboundQueue} without blocking.
 * <p>
 * <b>Thread safety.</b> Its fields are guarded by the connection's monitor, that of its queue (no lock of its
 * own): the Turn and Stallable methods and {@link #scheduleIfWork()} take it themselves, {@link #schedule()} is
 * called without it, the other methods with it held; it is never held while writing, completing the response or
 * calling the {@link Owner}.
 * The <em>writer role</em> ({@link #claim()}) is handed to the pool, or kept for one turn by the container's thread
 * that first says the sink is writable ({@link SourceConnection#writePossible()}, which claims it and calls
 * {@link #run()}); its holder is the only thread that touches the sink, so bytes
 * never interleave and frames keep their order. It is taken and released under the monitor, so each holder sees
 * what the previous one did to the sink. A client that does not take a batch at once is
 * awaited without a thread, until {@link #writable()}. The role is released on every path, failures included.
 */
final class ConnectionWriter implements WriterPool.Turn, WriterPool.Stallable {

	private final OutboundQueue queue;

	private final ConnectionLifecycle lifecycle;

	private final WriterPool writers;

	private final Owner owner;

	private final Log logger;

	// Guarded by the monitor

	private EventSourceConnection.@Nullable Sink sink;

	private boolean claimed;

	private boolean writable;

	private boolean signalled;

	private boolean flushPending;

	/** No byte can be written any more: the response was completed, by us or by the container. */
	private boolean responseDone;

	// Written under the monitor, read by the pool's stall check

	private volatile long stalledSinceNanos;

	/**
	 * Create the writer of a connection, guarded by its queue's monitor, which guards the lifecycle too. It
	 * logs to the connection's log, whose category applications configure.
	 */
	ConnectionWriter(OutboundQueue queue, ConnectionLifecycle lifecycle, WriterPool writers, Owner owner,
			Log logger) {
		this.queue = queue;
		this.lifecycle = lifecycle;
		this.writers = writers;
		this.owner = owner;
		this.logger = logger;
	}

	/**
	 * Start writing to the sink once the container says it may. Call with the monitor held.
	 */
	void bind(EventSourceConnection.Sink sink) {
		Assert.state(this.sink == null, "Already bound");
		this.sink = sink;
		// Nothing is written before the container first says it may be: count that as a stall.
		if (!this.writable && !this.lifecycle.isClosed()) {
			this.stalledSinceNanos = System.nanoTime();
			this.writers.stalled(this);
		}
	}

	/**
	 * Return whether a sink is bound. Call with the monitor held.
	 */
	boolean isBound() {
		return this.sink != null;
	}

	/**
	 * The sink can take bytes again; the caller then looks for work ({@link #claim()}). Call with the monitor held.
	 */
	void writable() {
		this.writable = true;
		this.signalled = true;
		this.queue.accepted();
		this.writers.unstalled(this);
	}

	/**
	 * The container completed the response: no byte can be written any more. Call with the monitor held.
	 */
	void responseCompleted() {
		this.responseDone = true;
		this.writers.unstalled(this);
	}

	/**
	 * The connection ended abruptly: the write timeout stops watching it. Call with the monitor held.
	 */
	void aborted() {
		this.writers.unstalled(this);
	}

	/**
	 * Take the writer role if a turn is needed and nobody holds it. Call with the monitor held.
	 * @return whether the caller now holds the role and must {@link #schedule()} a turn
	 */
	boolean claim() {
		if (this.claimed || this.sink == null || this.responseDone) {
			return false;
		}
		this.claimed = hasWork();
		return this.claimed;
	}

	/**
	 * Return whether a turn would find something to do: complete the response, or write while the sink takes bytes.
	 * Call with the monitor held.
	 */
	private boolean hasWork() {
		return this.lifecycle.isClosed() || (this.writable
				&& (!this.queue.isEmpty() || this.lifecycle.isClosing() || this.flushPending));
	}

	/**
	 * Hand the writer role, which the caller holds, to the pool. If the pool has stopped (the application shuts
	 * down), end the connection and complete its response on this thread: completing never blocks. Call with the
	 * monitor released.
	 */
	void schedule() {
		if (!this.writers.schedule(this)) {
			abandon();
		}
	}

	@Override
	public void abandon() {
		try {
			this.owner.abort(CloseReason.SHUTDOWN);
		}
		finally {
			// The turn completes the response and releases the role, whatever ending the source did.
			run();
		}
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
			schedule();
		}
	}

	/**
	 * @return whether another turn is needed now
	 */
	private boolean turn() {
		OutboundQueue.Batch batch = null;
		EventSourceConnection.Sink target;
		boolean complete = false;
		synchronized (this.queue) {
			target = this.sink;
			if (target == null || this.responseDone) {
				return false;
			}
			if (this.lifecycle.isClosed()) {
				complete = true;
			}
			else if (!this.writable) {
				return false;
			}
			else {
				batch = this.queue.take();
				if (batch == null && !this.flushPending) {
					if (this.lifecycle.isOpen()) {
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
			this.owner.written(batch);
		}
		synchronized (this.queue) {
			this.flushPending = !ready;
			if (ready) {
				this.queue.accepted();
			}
			else if (!this.signalled) {
				this.writable = false;
				this.stalledSinceNanos = System.nanoTime();
				this.writers.stalled(this);
			}
			return hasWork();
		}
	}

	/**
	 * Give the writer role up, or keep it for work that arrived while it was held (and so found it taken).
	 */
	private void release() {
		synchronized (this.queue) {
			this.claimed = false;
		}
		scheduleIfWork();
	}

	/**
	 * Take the writer role if there is work and nobody holds it, and schedule a turn if so. Call without the
	 * monitor.
	 */
	void scheduleIfWork() {
		boolean turn;
		synchronized (this.queue) {
			turn = claim();
		}
		if (turn) {
			schedule();
		}
	}

	private void writeFailed(Throwable failure, boolean onlyPings) {
		boolean containerDone;
		synchronized (this.queue) {
			containerDone = this.responseDone;
		}
		this.owner.writeFailed(failure, containerDone ? CloseReason.CLIENT_GONE
				: onlyPings ? CloseReason.PING_FAILED : CloseReason.SEND_FAILED);
		completeResponse();
	}

	/**
	 * Complete the response once, on the writer-role holder, and mark the connection closed.
	 */
	private void completeResponse() {
		EventSourceConnection.Sink target;
		synchronized (this.queue) {
			if (this.responseDone) {
				target = null;
			}
			else {
				this.responseDone = true;
				target = this.sink;
			}
			this.writers.unstalled(this);
		}
		if (target != null) {
			try {
				target.complete();
			}
			catch (RuntimeException ex) {
				this.logger.debug("Failed to complete " + this.owner, ex);
			}
		}
		this.lifecycle.finish();
	}

	// Stallable

	@Override
	public long stalledSinceNanos() {
		return this.stalledSinceNanos;
	}

	@Override
	public void writeTimedOut(long stalledSince) {
		boolean stalled;
		synchronized (this.queue) {
			// Still the same stall: a client that drained and stalled again since has a new deadline.
			stalled = !this.writable && !this.responseDone && this.stalledSinceNanos == stalledSince;
		}
		if (stalled) {
			this.owner.abort(CloseReason.WRITE_TIMEOUT);
		}
	}

	/**
	 * What the writer tells its connection; called on the writer-role holder (or the pool's stall check), never
	 * with the monitor held.
	 */
	interface Owner {

		/**
		 * A batch reached the sink: count it and tell the listeners.
		 */
		void written(OutboundQueue.Batch batch);

		/**
		 * Writing failed: tell the listeners and end the connection abruptly with the given reason; the writer
		 * then completes the response.
		 */
		void writeFailed(Throwable failure, CloseReason why);

		/**
		 * End the connection abruptly: its client stalled past the write timeout, or the pool stopped.
		 */
		void abort(CloseReason why);

	}

}
