package io.github.sisksse;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;
import org.springframework.util.Assert;

/**
 * The timers of one connection: ping, idle timeout (wait-for-fail), maximum lifetime and the deadline for the
 * handler to return the source. Each is one self-re-arming task on the registry's scheduler; no thread waits.
 * It also is the connection's {@link PingPolicy}.
 * <p>
 * <b>Thread safety.</b> The task handles are guarded by this object's monitor, held only to swap handles; the
 * owner is always called with the monitor released, so a timer never runs connection code under this lock. Ping
 * settings are volatile, so a change from any thread is seen at the next ping. A task that finds itself cancelled
 * or replaced when it runs does nothing.
 * <p>
 * <b>Time.</b> Timers are set and checked by the scheduler's {@link TaskScheduler#getClock() clock}, so that a
 * scheduler driven by a test's clock also drives pings and timeouts: {@link #nanoTime()} is
 * {@link System#nanoTime()} for a system clock, the clock's own time otherwise.
 */
final class ConnectionTimers implements PingPolicy {

	private static final Log logger = LogFactory.getLog(ConnectionTimers.class);

	private final TaskScheduler scheduler;

	/** The scheduler's clock, unless it is the system's. */
	private final @Nullable Clock clock;

	private final Owner owner;

	private final EventEncoder encoder;

	private volatile Duration pingInterval;

	private volatile byte[] pingFrame;

	private volatile @Nullable Duration idleTimeout;

	// Guarded by this

	private boolean stopped;

	private boolean bindStopped;

	private @Nullable Timer ping;

	private @Nullable Timer idle;

	private @Nullable Timer lifetime;

	private @Nullable Timer bindDeadline;

	ConnectionTimers(TaskScheduler scheduler, EventEncoder encoder, Duration pingInterval, byte[] pingFrame,
			Owner owner) {
		this.scheduler = scheduler;
		Clock schedulerClock = scheduler.getClock();
		this.clock = Clock.systemUTC().equals(schedulerClock.withZone(ZoneOffset.UTC)) ? null : schedulerClock;
		this.encoder = encoder;
		this.pingInterval = pingInterval;
		this.pingFrame = pingFrame;
		this.owner = owner;
	}

	/**
	 * Return the time to stamp the activity the timers check ({@link Owner#idleSinceNanos()},
	 * {@link Owner#lastWriteNanos()}) with, in nanoseconds from an arbitrary origin.
	 */
	long nanoTime() {
		Clock clock = this.clock;
		if (clock == null) {
			return System.nanoTime();
		}
		Instant now = clock.instant();
		return now.getEpochSecond() * 1_000_000_000L + now.getNano();
	}

	/**
	 * End the connection when the handler has not returned it within the deadline.
	 */
	synchronized void startBindDeadline(Duration deadline) {
		if (!this.bindStopped) {
			// Armed even after stopAll(true): a source that ended gracefully before its start still waits for
			// its handler no longer than this.
			this.bindDeadline = scheduleAnyway((self) -> this.owner.bindDeadlinePassed(), deadline.toNanos());
		}
	}

	synchronized void startLifetime(Duration maxLifetime) {
		this.lifetime = schedule((self) -> this.owner.expire(CloseReason.LIFETIME_EXPIRED), maxLifetime.toNanos());
	}

	/**
	 * Start or restart the idle timeout, counted from now.
	 */
	synchronized void startIdleTimeout(Duration timeout) {
		this.idleTimeout = timeout;
		this.idle = cancel(this.idle);
		this.idle = schedule(this::checkIdle, timeout.toNanos());
	}

	synchronized void stopIdleTimeout() {
		this.idleTimeout = null;
		this.idle = cancel(this.idle);
	}

	private void checkIdle(Timer self) {
		Duration timeout = this.idleTimeout;
		if (timeout == null) {
			return;
		}
		long idleFor = nanoTime() - this.owner.idleSinceNanos();
		if (idleFor >= timeout.toNanos()) {
			this.owner.expire(CloseReason.IDLE_TIMEOUT);
			return;
		}
		synchronized (this) {
			if (this.idle == self) {
				this.idle = schedule(this::checkIdle, timeout.toNanos() - idleFor);
			}
		}
	}

	/**
	 * Cancel every timer for good; later starts do nothing.
	 * @param keepBindDeadline whether to keep the bind deadline: a source closing gracefully before its handler
	 * returned it still waits for the handler, and no longer than that
	 */
	synchronized void stopAll(boolean keepBindDeadline) {
		this.stopped = true;
		this.ping = cancel(this.ping);
		this.idle = cancel(this.idle);
		this.lifetime = cancel(this.lifetime);
		if (!keepBindDeadline) {
			this.bindStopped = true;
			this.bindDeadline = cancel(this.bindDeadline);
		}
	}

	synchronized void stopBindDeadline() {
		this.bindStopped = true;
		this.bindDeadline = cancel(this.bindDeadline);
	}

	@Override
	public PingPolicy interval(Duration interval) {
		Assert.isTrue(!interval.isNegative() && !interval.isZero(), "Ping interval must be positive");
		this.pingInterval = interval;
		return this;
	}

	@Override
	public PingPolicy dataMessage(String message) {
		this.pingFrame = this.encoder.ping(Format.DATA, message, "");
		return this;
	}

	@Override
	public PingPolicy comment(String text) {
		this.pingFrame = this.encoder.ping(Format.COMMENT, text, "");
		return this;
	}

	@Override
	public PingPolicy event(String name, String data) {
		this.pingFrame = this.encoder.ping(Format.EVENT, data, name);
		return this;
	}

	@Override
	public synchronized void start() {
		this.ping = cancel(this.ping);
		this.ping = schedule(this::ping, this.pingInterval.toNanos());
	}

	@Override
	public synchronized void stop() {
		this.ping = cancel(this.ping);
	}

	@Override
	public synchronized boolean isStarted() {
		return this.ping != null;
	}

	private void ping(Timer self) {
		long interval = this.pingInterval.toNanos();
		long quiet = nanoTime() - this.owner.lastWriteNanos();
		boolean due = quiet >= interval;
		synchronized (this) {
			if (this.ping != self) {
				return;
			}
			this.ping = schedule(this::ping, due ? interval : interval - quiet);
		}
		if (due) {
			this.owner.ping(this.pingFrame);
		}
	}

	/**
	 * Schedule a task; called with the monitor held.
	 * @return the timer, or {@code null} once stopped or if the scheduler refused (it is shutting down, and the
	 * registry then closes every connection)
	 */
	private @Nullable Timer schedule(TimerTask task, long delayNanos) {
		return this.stopped ? null : scheduleAnyway(task, delayNanos);
	}

	private @Nullable Timer scheduleAnyway(TimerTask task, long delayNanos) {
		Timer timer = new Timer(task);
		try {
			timer.future = this.scheduler.schedule(timer, this.scheduler.getClock().instant().plusNanos(delayNanos));
		}
		catch (RejectedExecutionException ex) {
			logger.debug("Scheduler refused a timer; it is shutting down");
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

	/**
	 * What the timers ask of their connection; every method may be called from any scheduler thread.
	 */
	interface Owner {

		long idleSinceNanos();

		long lastWriteNanos();

		void expire(CloseReason reason);

		void ping(byte[] frame);

		void bindDeadlinePassed();

	}

	@FunctionalInterface
	private interface TimerTask {

		void run(Timer self);

	}

	/**
	 * A scheduled task that lets go of its work when cancelled: a scheduler without remove-on-cancel keeps
	 * cancelled tasks until their time, and must not keep ended connections reachable meanwhile. It never throws
	 * into the scheduler.
	 */
	private final class Timer implements Runnable {

		private volatile @Nullable TimerTask task;

		private volatile @Nullable ScheduledFuture<?> future;

		Timer(TimerTask task) {
			this.task = task;
		}

		@Override
		public void run() {
			TimerTask current = this.task;
			if (current == null) {
				return;
			}
			try {
				current.run(this);
			}
			catch (RuntimeException ex) {
				logger.warn("An event source timer failed", ex);
				ConnectionTimers.this.owner.expire(CloseReason.ERROR);
			}
		}

		void cancel() {
			this.task = null;
			ScheduledFuture<?> scheduled = this.future;
			if (scheduled != null) {
				scheduled.cancel(false);
			}
		}

	}

}
