package io.github.sisksse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.LockSupport;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * The writers: a ready-queue of connections that have something to write, drained by a fixed set of workers that
 * each give a connection one turn (one batch, written without blocking) and move on, so that a busy connection
 * cannot keep a worker for itself and no worker ever waits on a client. It also watches the connections whose
 * client stopped taking bytes, and ends those stalled for longer than the write timeout.
 * <p>
 * <b>Thread safety.</b> The ready-queue is a lock-free {@link ConcurrentLinkedQueue}, and idle workers park until
 * a new turn unparks one; a connection is in the queue at most once,
 * because only the holder of its writer role (see {@link ConnectionWriter}) may schedule it, so its size is
 * bounded by the number of connections. The stalled set is concurrent and likewise bounded. Workers share nothing
 * else.
 */
final class WriterPool {

	private static final Log logger = LogFactory.getLog(WriterPool.class);

	private static final Turn STOP = new Turn() {

		@Override
		public void run() {
		}

		@Override
		public void abandon() {
		}

	};

	/** How many turns of one {@link #scheduleAll} share a queue entry. */
	private static final int CHUNK = 64;

	private final ConcurrentLinkedQueue<Turn> ready = new ConcurrentLinkedQueue<>();

	/** Workers parked for want of turns, woken one per new turn at most. */
	private final ConcurrentLinkedDeque<Thread> idle = new ConcurrentLinkedDeque<>();

	private final Set<Stallable> stalled = ConcurrentHashMap.newKeySet();

	private final int workers;

	private final long writeTimeoutNanos;

	private final @Nullable ScheduledFuture<?> sweeper;

	private volatile boolean running = true;

	/**
	 * Start the workers.
	 * @param workers how many
	 * @param executor runs the workers' loops, or {@code null} for daemon threads of the pool's own
	 * @param scheduler runs the stall check
	 * @param writeTimeout how long a client may take no byte before its connection ends
	 */
	WriterPool(int workers, @Nullable Executor executor, TaskScheduler scheduler, Duration writeTimeout) {
		this.workers = workers;
		this.writeTimeoutNanos = writeTimeout.toNanos();
		CustomizableThreadFactory threads = new CustomizableThreadFactory("sisk-sse-writer-");
		threads.setDaemon(true);
		for (int i = 0; i < workers; i++) {
			if (executor != null) {
				executor.execute(this::work);
			}
			else {
				threads.newThread(this::work).start();
			}
		}
		long period = Math.max(10, Math.min(1000, writeTimeout.toMillis() / 4));
		this.sweeper = scheduler.scheduleWithFixedDelay(this::sweep, Duration.ofMillis(period));
	}

	/**
	 * Give the connection a turn; the caller holds its writer role and hands it over.
	 * @return {@code false} if the pool has stopped, in which case the caller keeps the role
	 */
	boolean schedule(Turn turn) {
		if (!this.running) {
			return false;
		}
		this.ready.add(turn);
		wake(1);
		// Lost a race with stop(): take the turn back unless stop() already took it over.
		return this.running || !this.ready.remove(turn);
	}

	/**
	 * Give each connection a turn; the caller holds their writer roles and hands them over. If the pool has
	 * stopped, the turns are abandoned on this thread.
	 */
	void scheduleAll(List<? extends Turn> turns) {
		if (turns.isEmpty()) {
			return;
		}
		if (!this.running) {
			turns.forEach(WriterPool::abandon);
			return;
		}
		// In chunks: one queue entry (and at most one wake-up) per CHUNK turns, which the workers share out.
		List<Turn> chunks = new ArrayList<>(turns.size() / CHUNK + 1);
		for (int from = 0; from < turns.size(); from += CHUNK) {
			chunks.add((turns.size() <= 1) ? turns.get(0)
					: new Chunk(List.copyOf(turns.subList(from, Math.min(turns.size(), from + CHUNK)))));
		}
		this.ready.addAll(chunks);
		wake(chunks.size());
		if (!this.running) {
			// Lost a race with stop(): abandon the turns it did not take over.
			for (Turn chunk : chunks) {
				if (this.ready.remove(chunk)) {
					abandon(chunk);
				}
			}
		}
	}

	/**
	 * Unpark up to this many idle workers: adding a turn costs a lock-free offer, and a signal only when a worker
	 * waits.
	 */
	private void wake(int turns) {
		for (int i = 0; i < turns; i++) {
			Thread worker = this.idle.poll();
			if (worker == null) {
				return;
			}
			LockSupport.unpark(worker);
		}
	}

	private void work() {
		Thread self = Thread.currentThread();
		while (this.running) {
			Turn turn = this.ready.poll();
			if (turn == null) {
				// Park only once registered as idle and still finding nothing: a turn added after the poll above
				// either sees this worker in the idle deque and unparks it, or is found by the second poll.
				this.idle.push(self);
				turn = this.ready.poll();
				if (turn == null) {
					// An interrupt (from a callback, say) would make park return at once, for ever: clear it.
					if (Thread.interrupted() && !this.running) {
						this.idle.remove(self);
						return;
					}
					LockSupport.park(this);
					this.idle.remove(self);
					continue;
				}
				if (!this.idle.remove(self)) {
					// A producer woke this worker, which is busy now: pass the wake-up on.
					wake(1);
				}
			}
			if (turn == STOP) {
				return;
			}
			try {
				turn.run();
			}
			catch (Throwable ex) {
				// A turn handles its own failures; this only keeps the worker alive should that ever fail too.
				logger.error("An event source writer turn failed", ex);
			}
		}
	}

	/**
	 * The client of this connection stopped taking bytes: end it if that lasts longer than the write timeout.
	 * Called under the connection's lock, like {@link #unstalled}, so that the set follows the connection's state
	 * exactly; the set's operations never block nor call out.
	 */
	void stalled(Stallable connection) {
		this.stalled.add(connection);
	}

	void unstalled(Stallable connection) {
		this.stalled.remove(connection);
	}

	private void sweep() {
		try {
			long now = System.nanoTime();
			for (Stallable connection : this.stalled) {
				long since = connection.stalledSinceNanos();
				if (now - since > this.writeTimeoutNanos) {
					this.stalled.remove(connection);
					connection.writeTimedOut(since);
				}
			}
		}
		catch (RuntimeException ex) {
			logger.warn("Event source write watchdog failed", ex);
		}
	}

	/**
	 * Stop the workers once they finish their current turn. The turns still queued are abandoned on this thread:
	 * each connection then ends and completes its response, which never blocks.
	 */
	void stop() {
		this.running = false;
		if (this.sweeper != null) {
			this.sweeper.cancel(false);
		}
		try {
			for (Turn turn = this.ready.poll(); turn != null; turn = this.ready.poll()) {
				abandon(turn);
			}
		}
		finally {
			for (int i = 0; i < this.workers; i++) {
				this.ready.add(STOP);
			}
			wake(this.workers);
		}
	}

	/**
	 * A connection's writer turn; whoever holds it holds the connection's writer role.
	 */
	interface Turn {

		/**
		 * Write one batch, on a worker.
		 */
		void run();

		/**
		 * The pool stopped before the turn ran: end the connection and complete its response.
		 */
		void abandon();

	}

	/**
	 * A connection whose client may stop taking bytes.
	 */
	interface Stallable {

		long stalledSinceNanos();

		/**
		 * The stall that began at the given time lasted longer than the write timeout.
		 */
		void writeTimedOut(long stalledSinceNanos);

	}

	/**
	 * Abandon a turn; a failure is logged and stops nothing else.
	 */
	private static void abandon(Turn turn) {
		try {
			turn.abandon();
		}
		catch (Throwable ex) {
			logger.error("Abandoning an event source writer turn failed", ex);
		}
	}

	/**
	 * Turns scheduled together, run one after the other by one worker: each is still one batch for its
	 * connection, which queues its next turn behind everything else. Compared by identity.
	 */
	private static final class Chunk implements Turn {

		private final List<? extends Turn> turns;

		Chunk(List<? extends Turn> turns) {
			this.turns = turns;
		}

		@Override
		public void run() {
			for (Turn turn : this.turns) {
				try {
					turn.run();
				}
				catch (Throwable ex) {
					logger.error("An event source writer turn failed", ex);
				}
			}
		}

		@Override
		public void abandon() {
			this.turns.forEach(WriterPool::abandon);
		}

	}

}
