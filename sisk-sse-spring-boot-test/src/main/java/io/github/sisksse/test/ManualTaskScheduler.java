package io.github.sisksse.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.PriorityQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.Trigger;
import org.springframework.scheduling.support.SimpleTriggerContext;

/**
 * A {@link TaskScheduler} whose time moves only when a test says so: {@link #advance(Duration)} moves its
 * {@link #getClock() clock} forward and runs every task that falls due, in time order (tasks due at the same time
 * in the order they were scheduled), on the calling thread. Given to the registry, it drives pings, idle timeouts
 * (wait-for-fail) and lifetimes without waiting: the registry also reads the time of its idle and ping checks from
 * this clock. Declare it as the registry's scheduler in a test:
 * <pre class="code">
 * &#64;TestConfiguration(proxyBeanMethods = false)
 * static class ManualTime {
 *
 *     &#64;Bean(name = SiskSseAutoConfiguration.SCHEDULER_BEAN_NAME, defaultCandidate = false)
 *     ManualTaskScheduler siskSseTaskScheduler() {
 *         return new ManualTaskScheduler();
 *     }
 *
 * }
 *
 * &#64;Autowired &#64;Qualifier(SiskSseAutoConfiguration.SCHEDULER_BEAN_NAME)
 * ManualTaskScheduler scheduler;
 * </pre>
 * ({@code defaultCandidate = false} keeps it from being taken for the application's own {@code TaskScheduler},
 * e.g. by {@code @Scheduled} methods.) The registry's other timers (the bind deadline, the write-timeout check)
 * also run only when time is advanced. What a task starts elsewhere, such as a ping written by the registry's
 * writer threads, still happens asynchronously: assert on it with {@link SseAssertions}, which waits. Writes are
 * stamped with this clock's time when they happen, so move time once a stream has started (its first bytes, such
 * as the {@code retry:} line, arrived).
 * <p>
 * Thread-safe: tasks may be scheduled and cancelled from any thread, also while {@link #advance} runs tasks;
 * one {@code advance} at a time runs.
 */
public final class ManualTaskScheduler implements TaskScheduler {

	/**
	 * The most tasks one {@link #advance} runs before it fails: a task that keeps scheduling itself at or before
	 * the current time would otherwise never let it end.
	 */
	public static final int MAX_TASKS_PER_ADVANCE = 100_000;

	private final AtomicReference<Instant> now;

	private final ManualClock clock;

	/** Guarded by itself. */
	private final PriorityQueue<Task> tasks = new PriorityQueue<>();

	private final ReentrantLock advancing = new ReentrantLock();

	private long sequence;

	/**
	 * Create a scheduler whose clock starts at the current time, in UTC.
	 */
	public ManualTaskScheduler() {
		this(Instant.now());
	}

	/**
	 * Create a scheduler whose clock starts at the given time, in UTC.
	 * @param start the clock's first instant
	 */
	public ManualTaskScheduler(Instant start) {
		this.now = new AtomicReference<>(start);
		this.clock = new ManualClock(this.now, ZoneOffset.UTC);
	}

	/**
	 * Return the clock this scheduler runs by; it moves only with {@link #advance(Duration)}.
	 * @return the manual clock
	 */
	@Override
	public Clock getClock() {
		return this.clock;
	}

	/**
	 * Return the current time of this scheduler's clock.
	 * @return the current instant
	 */
	public Instant now() {
		return this.now.get();
	}

	/**
	 * Move the clock forward by the given time, running each task that falls due on the way at its own time, in
	 * order, on this thread; tasks those tasks schedule run too if they fall due within the same advance. An
	 * exception thrown by a task stops the advance there and is rethrown.
	 * @param duration how far to move the clock; zero runs only the tasks due now
	 * @return the number of tasks run
	 * @throws IllegalStateException if more than {@link #MAX_TASKS_PER_ADVANCE} tasks fell due
	 */
	public int advance(Duration duration) {
		if (duration.isNegative()) {
			throw new IllegalArgumentException("Time cannot go back: " + duration);
		}
		this.advancing.lock();
		try {
			Instant target = now().plus(duration);
			int run = 0;
			for (Task task = nextDue(target); task != null; task = nextDue(target)) {
				if (run == MAX_TASKS_PER_ADVANCE) {
					requeue(task, task.time);
					throw new IllegalStateException("More than " + MAX_TASKS_PER_ADVANCE + " tasks fell due in one "
							+ "advance, the last one at " + task.time + ": does a task keep scheduling itself at or "
							+ "before the current time, e.g. by reading another clock than getClock()?");
				}
				task.run();
				run++;
			}
			this.now.set(target);
			return run;
		}
		finally {
			this.advancing.unlock();
		}
	}

	/**
	 * Run the tasks due at the current time, without moving the clock.
	 * @return the number of tasks run
	 */
	public int runDueTasks() {
		return advance(Duration.ZERO);
	}

	/**
	 * Return how many tasks wait to run, repeating ones included.
	 * @return the number of scheduled tasks not cancelled
	 */
	public int scheduledTaskCount() {
		synchronized (this.tasks) {
			return this.tasks.size();
		}
	}

	/**
	 * Return when the next task falls due.
	 * @return its time, or {@code null} if no task waits
	 */
	public @Nullable Instant nextRunTime() {
		synchronized (this.tasks) {
			Task next = this.tasks.peek();
			return (next != null) ? next.time : null;
		}
	}

	/**
	 * Take the next task due at or before the target time off the queue, and move the clock to its time.
	 */
	private @Nullable Task nextDue(Instant target) {
		synchronized (this.tasks) {
			Task next = this.tasks.peek();
			if (next == null || next.time.isAfter(target)) {
				return null;
			}
			this.tasks.remove();
			if (next.time.isAfter(now())) {
				this.now.set(next.time);
			}
			return next;
		}
	}

	private Task add(Runnable runnable, Instant time, Schedule schedule) {
		synchronized (this.tasks) {
			Task task = new Task(runnable, time, this.sequence++, schedule);
			this.tasks.add(task);
			return task;
		}
	}

	private void requeue(Task task, Instant time) {
		synchronized (this.tasks) {
			if (!task.isCancelled()) {
				task.time = time;
				task.order = this.sequence++;
				this.tasks.add(task);
			}
		}
	}

	private void remove(Task task) {
		synchronized (this.tasks) {
			this.tasks.remove(task);
		}
	}

	@Override
	public @Nullable ScheduledFuture<?> schedule(Runnable task, Trigger trigger) {
		SimpleTriggerContext context = new SimpleTriggerContext(this.clock);
		Instant first = trigger.nextExecution(context);
		if (first == null) {
			return null;
		}
		return add(task, first, new TriggerSchedule(trigger, context));
	}

	@Override
	public ScheduledFuture<?> schedule(Runnable task, Instant startTime) {
		return add(task, startTime, Schedule.ONCE);
	}

	@Override
	public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Instant startTime, Duration period) {
		return add(task, startTime, new PeriodicSchedule(period, true));
	}

	@Override
	public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Duration period) {
		return scheduleAtFixedRate(task, now(), period);
	}

	@Override
	public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Instant startTime, Duration delay) {
		return add(task, startTime, new PeriodicSchedule(delay, false));
	}

	@Override
	public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Duration delay) {
		return scheduleWithFixedDelay(task, now(), delay);
	}

	@Override
	public String toString() {
		return "ManualTaskScheduler at " + now() + " with " + scheduledTaskCount() + " tasks";
	}

	/**
	 * When a task runs again, if it does.
	 */
	private interface Schedule {

		Schedule ONCE = (scheduled, started, finished) -> null;

		@Nullable Instant next(Instant scheduled, Instant started, Instant finished);

	}

	private record PeriodicSchedule(Duration period, boolean fixedRate) implements Schedule {

		PeriodicSchedule {
			if (period.isNegative() || period.isZero()) {
				throw new IllegalArgumentException("The period must be positive: " + period);
			}
		}

		@Override
		public Instant next(Instant scheduled, Instant started, Instant finished) {
			return this.fixedRate ? scheduled.plus(this.period) : finished.plus(this.period);
		}

	}

	private record TriggerSchedule(Trigger trigger, SimpleTriggerContext context) implements Schedule {

		@Override
		public @Nullable Instant next(Instant scheduled, Instant started, Instant finished) {
			this.context.update(scheduled, started, finished);
			return this.trigger.nextExecution(this.context);
		}

	}

	/**
	 * A scheduled task and its future. Its time and order change only while it is off the queue.
	 */
	private final class Task implements ScheduledFuture<Object> {

		private final Runnable runnable;

		private final Schedule schedule;

		private final CompletableFuture<Object> result = new CompletableFuture<>();

		private volatile Instant time;

		private long order;

		Task(Runnable runnable, Instant time, long order, Schedule schedule) {
			this.runnable = runnable;
			this.time = time;
			this.order = order;
			this.schedule = schedule;
		}

		void run() {
			Instant scheduled = this.time;
			Instant started = now();
			try {
				this.runnable.run();
			}
			catch (RuntimeException | Error ex) {
				this.result.completeExceptionally(ex);
				throw ex;
			}
			Instant next = this.schedule.next(scheduled, started, now());
			if (next == null) {
				this.result.complete(null);
			}
			else {
				requeue(this, next);
			}
		}

		@Override
		public boolean cancel(boolean mayInterruptIfRunning) {
			boolean cancelled = this.result.cancel(false);
			remove(this);
			return cancelled;
		}

		@Override
		public boolean isCancelled() {
			return this.result.isCancelled();
		}

		@Override
		public boolean isDone() {
			return this.result.isDone();
		}

		@Override
		public Object get() throws InterruptedException, ExecutionException {
			return this.result.get();
		}

		@Override
		public Object get(long timeout, TimeUnit unit)
				throws InterruptedException, ExecutionException, TimeoutException {
			return this.result.get(timeout, unit);
		}

		@Override
		public long getDelay(TimeUnit unit) {
			return unit.convert(Duration.between(now(), this.time));
		}

		@Override
		public int compareTo(Delayed other) {
			if (other instanceof Task task) {
				int byTime = this.time.compareTo(task.time);
				return (byTime != 0) ? byTime : Long.compare(this.order, task.order);
			}
			return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
		}

	}

	/**
	 * A clock that reads the scheduler's current time; clocks derived from it with another zone read it too.
	 */
	private static final class ManualClock extends Clock {

		private final AtomicReference<Instant> now;

		private final ZoneId zone;

		ManualClock(AtomicReference<Instant> now, ZoneId zone) {
			this.now = now;
			this.zone = zone;
		}

		@Override
		public ZoneId getZone() {
			return this.zone;
		}

		@Override
		public Clock withZone(ZoneId zone) {
			return new ManualClock(this.now, zone);
		}

		@Override
		public Instant instant() {
			return this.now.get();
		}

		@Override
		public String toString() {
			return "ManualClock[" + instant() + "," + this.zone + "]";
		}

	}

}
