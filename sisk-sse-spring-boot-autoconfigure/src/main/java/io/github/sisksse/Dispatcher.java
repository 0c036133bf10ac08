package io.github.sisksse;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * Reads the {@link EventLog} into this instance's copy, the {@link PublicationLog}, and delivers its entries to this
 * instance's connections, strictly in log order; and joins new connections to the log: a connection that joins at
 * a position is first replayed the entries after it that were meant for it, then receives every later one live,
 * with no gap and no duplicate, because both happen here, between two entries (what a joining connection is owed
 * is its {@link Resumption}'s to find).
 * <p>
 * Delivering is one O(1) enqueue per connection ({@link Deliveries}), on one thread of the dispatcher's own, so
 * that senders never do it (a broadcast to every connection returns once appended) and the writers never wait for
 * it nor it for them: it hands them their turns every 64 connections, and a burst of broadcasts is queued while
 * they write, so that each connection's writer takes many events in one batch.
 * <p>
 * <b>Thread safety.</b> Only the dispatcher's thread touches the position delivered so far and each connection's
 * live position ({@link DefaultEventSource#isLive}), so they need no lock (a connection's are set before it is
 * published to that thread). Whoever adds work sets the {@code scheduled} flag and unparks the thread, which clears
 * the flag before it looks for work: work added while it looks sets the flag again, so none is missed. Joins arrive
 * on a lock-free queue, at most one per connection; entries arrive from the log's thread (or the sender's, for a
 * log in memory) into the copy, which has its own lock. No lock is held while sources are settled or listeners run.
 * The thread is a platform daemon thread of the registry's own (also with virtual threads: it is one, long-lived),
 * and survives whatever an entry or a listener throws: that entry is passed, never retried.
 */
final class Dispatcher implements EventLog.Reader {

	private static final Log logger = LogFactory.getLog(Dispatcher.class);

	private final PublicationLog log;

	private final Targets targets;

	private final SourceIndex index;

	private final WriterPool writers;

	private final boolean siblings;

	private final Resumption resumption;

	/** Whether there may be work: set by whoever adds some, cleared by the dispatcher's thread before it looks. */
	private final AtomicBoolean scheduled = new AtomicBoolean();

	private final Thread thread;

	private volatile boolean running = true;

	private final ConcurrentLinkedQueue<Resumption.Join> joins = new ConcurrentLinkedQueue<>();

	// Touched by the dispatcher's thread only.

	/** The sequence number of the last entry delivered. */
	private long delivered;

	/** The generation and position of the last entry delivered. */
	private int deliveredGeneration;

	private long deliveredPosition;

	Dispatcher(PublicationLog log, Targets targets, SourceIndex index, WriterPool writers,
			ConnectionSettings connections, EventEncoder encoder, boolean siblings, String resetEventName) {
		this.log = log;
		this.targets = targets;
		this.index = index;
		this.writers = writers;
		this.siblings = siblings;
		this.resumption = new Resumption(log, encoder, siblings, resetEventName, connections.listeners());
		this.thread = new CustomizableThreadFactory("sisk-sse-dispatcher-").newThread(this::loop);
		this.thread.setDaemon(true);
	}

	// EventLog.Reader

	@Override
	public void epoch(String epoch) {
		this.log.epoch(epoch);
	}

	@Override
	public void entry(long position, EventLog.Entry entry) {
		Publication.Target target = this.targets.read(entry.target());
		this.log.accept(position, target, entry.ownId(),
				(target instanceof Publication.Elsewhere) ? new byte[0] : entry.frame());
		// Only once taken: an entry refused (too many pending) is offered again, predicate and all.
		this.targets.taken(entry.target());
		wake();
	}

	/**
	 * Join a connection to the log after the given position: it is replayed the entries after it meant for it,
	 * then receives the later ones live. Until then the dispatcher passes it by.
	 * @param source the connection, created with no live position: the dispatcher passes it by until it has joined
	 * @param resume where its client resumes
	 * @param reported the {@code Last-Event-ID} its client reported, if any, so that listeners hear of the replay
	 */
	void join(DefaultEventSource source, PublicationLog.Resume resume, @Nullable String reported) {
		this.joins.add(new Resumption.Join(source, resume, reported));
		wake();
	}

	/**
	 * Make sure a turn will deliver what was appended.
	 * @return {@code false} if nothing is delivered any more: the dispatcher has stopped (the registry is being
	 * destroyed, and every connection is ending)
	 */
	boolean wake() {
		if (this.scheduled.compareAndSet(false, true)) {
			LockSupport.unpark(this.thread);
		}
		return this.running;
	}

	/**
	 * Start delivering, on the dispatcher's own thread.
	 */
	void start() {
		this.thread.start();
	}

	/**
	 * Stop delivering: the thread ends after the entry it is delivering. Every connection is ending anyway.
	 */
	void stop() {
		this.running = false;
		LockSupport.unpark(this.thread);
	}

	private void loop() {
		try {
			while (this.running) {
				// Cleared before looking, so that work added while this turn looks sets it again.
				if (!this.scheduled.getAndSet(false)) {
					// Application code runs here (listeners, predicates): an interrupt it left would make every
					// park return at once.
					Thread.interrupted();
					LockSupport.park(this);
					continue;
				}
				try {
					turn();
				}
				catch (Throwable ex) {
					// The entry that failed is passed (see turn()); look again for the rest, after a breath in case
					// the failure repeats.
					this.scheduled.set(true);
					failed(ex);
					LockSupport.parkNanos(1_000_000);
				}
			}
		}
		finally {
			// Only stop() should end this loop; if anything else does, wake() says so and close() ends at once.
			this.running = false;
		}
	}

	private static void failed(Throwable ex) {
		try {
			logger.error("Delivering events failed", ex);
		}
		catch (Throwable logging) {
			// Out of memory, say: nothing more to do, and the loop must go on.
		}
	}

	private void turn() {
		Deliveries deliveries = new Deliveries();
		try {
			while (this.running) {
				for (Resumption.Join join = this.joins.poll(); join != null; join = this.joins.poll()) {
					this.resumption.join(join, this.delivered, this.deliveredGeneration, this.deliveredPosition);
				}
				Publication entry = this.log.next(this.delivered);
				if (entry == null) {
					return;
				}
				try {
					deliver(entry, deliveries);
				}
				finally {
					// Passed even if delivering it failed with an Error: one entry must never block the others.
					this.deliveredGeneration = entry.generation();
					this.deliveredPosition = entry.position();
					this.delivered = entry.seq();
					this.log.dispatched(entry);
				}
				// The first connections are written while the rest are still being queued.
				deliveries.settleIfMany(this.writers);
			}
		}
		finally {
			deliveries.settle(this.writers);
		}
	}

	private void deliver(Publication entry, Deliveries deliveries) {
		Publication.Target target = entry.target();
		byte[] idLine = entry.idLine();
		try {
			if (target instanceof Publication.Connection connection) {
				if (!this.siblings && !connection.identifier().isEmpty()) {
					// The stream's connection, as replay has it: the sender's, or the one that replaced it since.
					for (DefaultEventSource source : this.index.sources(connection.identifier())) {
						offer(source, entry, idLine, deliveries);
					}
				}
				else {
					DefaultEventSource source = this.targets.connection(connection.serial());
					if (source != null) {
						offer(source, entry, idLine, deliveries);
					}
				}
			}
			else if (target instanceof Publication.Closing closing) {
				DefaultEventSource source = this.targets.connection(closing.serial());
				if (source != null && !source.hasJoined()) {
					// What it was sent before comes with its join: close it after that.
					source.closeAfterJoin = true;
				}
				else if (source != null) {
					// After the events before it, which are queued already; settled first, so that they are written.
					deliveries.settle(this.writers);
					source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
				}
			}
			else if (target instanceof Publication.Stream stream) {
				for (DefaultEventSource source : this.index.sources(stream.identifier())) {
					offer(source, entry, idLine, deliveries);
				}
			}
			else if (!(target instanceof Publication.Elsewhere)) {
				boolean all = target instanceof Publication.All;
				this.index.forEach((identifier) -> all || target.includes(identifier), all,
						(source) -> offer(source, entry, idLine, deliveries));
			}
		}
		catch (RuntimeException ex) {
			// Only an application's predicate can fail here: the entry reaches the connections found so far.
			logger.warn("Failed to find the event sources for " + target, ex);
		}
	}

	private static void offer(DefaultEventSource source, Publication entry, byte @Nullable [] idLine,
			Deliveries deliveries) {
		if (source.isLive(entry)) {
			deliveries.offer(source, idLine, entry.frame());
		}
	}

}
