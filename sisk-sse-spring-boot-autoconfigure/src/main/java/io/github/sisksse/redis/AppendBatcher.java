package io.github.sisksse.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import io.github.sisksse.EventLog;
import io.github.sisksse.EventLogException;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.ReturnType;

/**
 * Appends to the Redis stream in batches (group commit): a caller queues its entry and waits; a thread of the log
 * ({@value #THREADS} of them, each with one batch in flight) takes every entry waiting, up to {@value #MAX_ENTRIES} entries or {@value #MAX_BYTES} bytes of frames, appends
 * them with one script call (one round trip, one script run in Redis) and completes each caller. One caller alone
 * costs one round trip, as it would unbatched; many callers at once share round trips instead of each paying its
 * own, which is what bounds publishing from one instance (a Redis round trip and script run per entry).
 * <p>
 * A batch that fails fails every caller in it with {@link EventLogException}; as with any failed call to Redis,
 * some of its entries may have been appended all the same (the failure came after, or Lettuce runs the call again
 * once it reconnects). While the connection is down, an append fails at once, and so does an entry still waiting
 * behind a batch in flight (it is taken back, never appended): only the callers of the batch in flight wait for
 * the client's reconnection or command timeout, as a single call would.
 * <p>
 * <b>Thread safety.</b> {@link #append} may be called from any number of threads: entries meet in a bounded
 * blocking queue ({@value #MAX_WAITING} entries; callers wait for their own, so it holds at most one per waiting
 * thread). The batching threads take from it while running, each taking whole entries (an entry one of them took
 * but had no room for stays with it, for its next batch; each caller's entries are taken in its order, as it waits
 * for one before queueing the next); {@link #stop()} takes what is left after joining them, which it does not
 * interrupt. Every entry queued is completed exactly once, by whoever takes it from the queue (a batching thread,
 * {@link #stop()}, or its own caller taking it back: then the caller fails at once, and it was never sent).
 * Completion goes through a {@link CompletableFuture}, whose completion happens-before the caller's return.
 */
final class AppendBatcher implements Runnable {

	/** Entries appended by one script call at most. */
	static final int MAX_ENTRIES = 512;

	/** Bytes of frames appended by one script call at most (a single larger frame goes alone). */
	static final int MAX_BYTES = 1024 * 1024;

	/** How long a caller waits before it checks the connection again, and the thread checks whether it stops. */
	private static final long WAIT_SLICE_MILLIS = 100;

	/**
	 * Threads taking batches, each with one batch in flight at most, so that a batch fills while another is on
	 * its way (measured: with one, 32 sending threads got 42,000-48,000 events/s; with two, 55,000-58,000; four
	 * did no better).
	 */
	static final int THREADS = 2;

	/** Entries waiting at most; beyond, an append fails at once. */
	static final int MAX_WAITING = 65_536;

	private static final byte[] NO_OWN_ID = new byte[0];

	private final RedisConnectionFactory connectionFactory;

	private final LogKeys keys;

	private final byte[] maxLength;

	private final Supplier<byte[]> newEpoch;

	private final Outages outages;

	private final BlockingQueue<Waiting> waiting = new ArrayBlockingQueue<>(MAX_WAITING);

	private final Thread[] threads;

	private volatile boolean stopped;

	AppendBatcher(RedisConnectionFactory connectionFactory, LogKeys keys, byte[] maxLength, Supplier<byte[]> newEpoch,
			Outages outages) {
		this.connectionFactory = connectionFactory;
		this.keys = keys;
		this.maxLength = maxLength;
		this.newEpoch = newEpoch;
		this.outages = outages;
		this.threads = new Thread[THREADS];
		for (int i = 0; i < this.threads.length; i++) {
			this.threads[i] = new Thread(this, "sisk-sse-redis-append-" + (i + 1));
			this.threads[i].setDaemon(true);
		}
	}

	void start() {
		for (Thread thread : this.threads) {
			thread.start();
		}
	}

	/**
	 * Append an entry, waiting until Redis has it.
	 * @throws EventLogException if it could not be appended (it may have been all the same, see above)
	 */
	void append(EventLog.Entry entry) {
		if (this.stopped) {
			throw stoppedException();
		}
		if (Thread.currentThread().isInterrupted()) {
			throw new EventLogException("Could not append to the Redis event log: the thread is interrupted",
					new InterruptedException());
		}
		if (!LettuceConnectivity.isConnected(this.connectionFactory)) {
			throw notAppended(new IllegalStateException("Not connected to Redis"));
		}
		Waiting mine = new Waiting(entry);
		if (!this.waiting.offer(mine)) {
			throw new EventLogException("Could not append to the Redis event log: " + MAX_WAITING
					+ " appends are already waiting for Redis", new IllegalStateException("Too many appends waiting"));
		}
		if (this.stopped && this.waiting.remove(mine)) {
			throw stoppedException();
		}
		try {
			// In slices: an entry still waiting when the connection is lost (the batch before it is held by the
			// client's reconnection), or when the batching threads are gone, is taken back and fails at once.
			while (true) {
				try {
					mine.done.get(WAIT_SLICE_MILLIS, TimeUnit.MILLISECONDS);
					return;
				}
				catch (TimeoutException ex) {
					boolean appending = anyAlive();
					if ((!appending || !LettuceConnectivity.isConnected(this.connectionFactory))
							&& this.waiting.remove(mine)) {
						throw notAppended(new IllegalStateException(
								appending ? "Not connected to Redis" : "The appending threads ended"));
					}
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			if (this.waiting.remove(mine)) {
				throw new EventLogException("Interrupted while waiting to append to the Redis event log; not "
						+ "appended", ex);
			}
			throw new EventLogException("Interrupted while appending to the Redis event log; the event may still "
					+ "be published", ex);
		}
		catch (ExecutionException ex) {
			// A new exception per caller, with the caller's stack, caused by the batch's failure.
			Throwable cause = ex.getCause();
			throw new EventLogException((cause instanceof EventLogException) ? cause.getMessage()
					: "Could not append to the Redis event log: " + cause, cause);
		}
	}

	/**
	 * Stop the batching threads once their batches in flight are done (it is not interrupted, so that the batch's
	 * callers learn whether Redis took it), and fail the entries still waiting.
	 */
	void stop() {
		this.stopped = true;
		try {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
			for (Thread thread : this.threads) {
				thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		List<Waiting> left = new ArrayList<>();
		this.waiting.drainTo(left);
		EventLogException stopped = stoppedException();
		left.forEach((entry) -> entry.done.completeExceptionally(stopped));
	}

	private boolean anyAlive() {
		for (Thread thread : this.threads) {
			if (thread.isAlive()) {
				return true;
			}
		}
		return false;
	}

	private EventLogException notAppended(RuntimeException cause) {
		this.outages.appendFailed(cause);
		return new EventLogException("Could not append to the Redis event log: " + cause.getMessage(), cause);
	}

	@Override
	public void run() {
		List<Waiting> batch = new ArrayList<>();
		Waiting carried = null; // taken for the next batch, which this one had no room for
		while (!this.stopped) {
			try {
				Waiting first = (carried != null) ? carried : this.waiting.poll(WAIT_SLICE_MILLIS, TimeUnit.MILLISECONDS);
				carried = null;
				if (first == null) {
					continue;
				}
				batch.add(first);
				int bytes = first.entry.frame().length;
				for (Waiting next; batch.size() < MAX_ENTRIES && (next = this.waiting.poll()) != null;) {
					if (bytes + next.entry.frame().length > MAX_BYTES) {
						carried = next;
						break;
					}
					batch.add(next);
					bytes += next.entry.frame().length;
				}
				appendAll(batch);
			}
			catch (InterruptedException ex) {
				// Nobody interrupts this thread but to end it: the loop ends as if stopped.
				Thread.currentThread().interrupt();
				this.stopped = true;
			}
			catch (Throwable ex) {
				fail(batch, (ex instanceof EventLogException logException) ? logException
						: new EventLogException("Could not append to the Redis event log: " + ex, ex));
			}
			finally {
				if (!batch.isEmpty() && !batch.get(batch.size() - 1).done.isDone()) {
					fail(batch, stoppedException()); // interrupted before the batch was sent
				}
				batch.clear();
			}
		}
		if (carried != null) {
			carried.done.completeExceptionally(stoppedException());
		}
	}

	private void appendAll(List<Waiting> batch) {
		byte[][] keysAndArgs = new byte[5 + 3 * batch.size()][];
		keysAndArgs[0] = this.keys.epoch();
		keysAndArgs[1] = this.keys.position();
		keysAndArgs[2] = this.keys.stream();
		keysAndArgs[3] = this.newEpoch.get();
		keysAndArgs[4] = this.maxLength;
		for (int i = 0; i < batch.size(); i++) {
			EventLog.Entry entry = batch.get(i).entry;
			keysAndArgs[5 + 3 * i] = entry.target().getBytes(StandardCharsets.UTF_8);
			keysAndArgs[6 + 3 * i] = entry.frame();
			keysAndArgs[7 + 3 * i] = (entry.ownId() != null) ? ("=" + entry.ownId()).getBytes(StandardCharsets.UTF_8)
					: NO_OWN_ID;
		}
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			if (LettuceConnectivity.isDisconnected(connection)) {
				throw new IllegalStateException("Not connected to Redis");
			}
			LogScripts.APPEND.run(connection, ReturnType.INTEGER, 3, keysAndArgs);
		}
		catch (RuntimeException ex) {
			for (int i = 0; i < batch.size(); i++) {
				this.outages.appendFailed(ex);
			}
			fail(batch, new EventLogException("Could not append to the Redis event log: " + ex.getMessage(), ex));
			return;
		}
		this.outages.succeeded();
		batch.forEach((entry) -> entry.done.complete(null));
	}

	private static void fail(List<Waiting> batch, EventLogException ex) {
		batch.forEach((entry) -> entry.done.completeExceptionally(ex));
	}

	static EventLogException stoppedException() {
		return new EventLogException("The Redis event log is stopped", new IllegalStateException("Stopped"));
	}

	/**
	 * An entry and its caller's wait.
	 */
	private static final class Waiting {

		final EventLog.Entry entry;

		final CompletableFuture<@Nullable Void> done = new CompletableFuture<>();

		Waiting(EventLog.Entry entry) {
			this.entry = entry;
		}

	}

}
