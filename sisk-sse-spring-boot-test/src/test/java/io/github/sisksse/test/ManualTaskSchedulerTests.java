package io.github.sisksse.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;

import org.junit.jupiter.api.Test;

import org.springframework.scheduling.support.PeriodicTrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The manual scheduler on its own: time moves only with advance, and due tasks run in order at their time.
 */
class ManualTaskSchedulerTests {

	private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

	private final ManualTaskScheduler scheduler = new ManualTaskScheduler(START);

	private final List<String> log = new ArrayList<>();

	@Test
	void runsDueTasksInTimeOrderThenBySchedulingOrderEachAtItsOwnTime() {
		this.scheduler.schedule(record("c"), START.plusSeconds(20));
		this.scheduler.schedule(record("a"), START.plusSeconds(10));
		this.scheduler.schedule(record("b"), START.plusSeconds(10));
		this.scheduler.schedule(record("later"), START.plusSeconds(31));
		assertThat(this.scheduler.advance(Duration.ofSeconds(30))).isEqualTo(3);
		assertThat(this.log).containsExactly("a@10", "b@10", "c@20");
		assertThat(this.scheduler.now()).isEqualTo(START.plusSeconds(30));
		assertThat(this.scheduler.scheduledTaskCount()).isOne();
		assertThat(this.scheduler.nextRunTime()).isEqualTo(START.plusSeconds(31));
	}

	@Test
	void runsNothingUntilTimeIsAdvanced() {
		this.scheduler.schedule(record("due-now"), START);
		this.scheduler.schedule(record("soon"), START.plusMillis(1));
		assertThat(this.log).isEmpty();
		assertThat(this.scheduler.runDueTasks()).isOne();
		assertThat(this.log).containsExactly("due-now@0");
		assertThat(this.scheduler.now()).isEqualTo(START);
	}

	@Test
	void repeatsFixedDelayAndFixedRateTasksWithinOneAdvance() {
		this.scheduler.scheduleWithFixedDelay(record("delay"), START.plusSeconds(5), Duration.ofSeconds(5));
		this.scheduler.scheduleAtFixedRate(record("rate"), Duration.ofSeconds(8));
		this.scheduler.advance(Duration.ofSeconds(16));
		assertThat(this.log).containsExactly("rate@0", "delay@5", "rate@8", "delay@10", "delay@15", "rate@16");
	}

	@Test
	void runsTasksThatDueTasksScheduleWithinTheSameAdvance() {
		this.scheduler.schedule(() -> {
			this.log.add("first@" + elapsed());
			this.scheduler.schedule(record("second"), this.scheduler.now().plusSeconds(1));
		}, START.plusSeconds(1));
		this.scheduler.advance(Duration.ofSeconds(2));
		assertThat(this.log).containsExactly("first@1", "second@2");
	}

	@Test
	void cancelledTasksDoNotRun() {
		ScheduledFuture<?> once = this.scheduler.schedule(record("once"), START.plusSeconds(1));
		ScheduledFuture<?> repeating = this.scheduler.scheduleWithFixedDelay(record("repeating"), Duration.ofSeconds(1));
		this.scheduler.advance(Duration.ofSeconds(1));
		assertThat(once.isDone()).isTrue();
		assertThat(repeating.cancel(false)).isTrue();
		this.scheduler.advance(Duration.ofSeconds(5));
		assertThat(this.log).containsExactly("repeating@0", "once@1", "repeating@1");
		assertThat(repeating.isCancelled()).isTrue();
		assertThat(this.scheduler.scheduledTaskCount()).isZero();
	}

	@Test
	void followsATrigger() {
		this.scheduler.schedule(record("triggered"), new PeriodicTrigger(Duration.ofSeconds(3)));
		this.scheduler.advance(Duration.ofSeconds(7));
		assertThat(this.log).containsExactly("triggered@0", "triggered@3", "triggered@6");
	}

	@Test
	void taskThatThrowsStopsTheAdvanceAtItsTime() {
		this.scheduler.schedule(() -> {
			throw new IllegalStateException("boom");
		}, START.plusSeconds(1));
		this.scheduler.schedule(record("after"), START.plusSeconds(2));
		assertThatIllegalStateException().isThrownBy(() -> this.scheduler.advance(Duration.ofSeconds(5)))
			.withMessage("boom");
		assertThat(this.scheduler.now()).isEqualTo(START.plusSeconds(1));
		assertThat(this.log).isEmpty();
	}

	@Test
	void itsClockMovesOnlyWithAdvanceInEveryZone() {
		assertThat(this.scheduler.getClock().instant()).isEqualTo(START);
		assertThat(this.scheduler.getClock().getZone()).isEqualTo(ZoneOffset.UTC);
		Clock paris = this.scheduler.getClock().withZone(ZoneId.of("Europe/Paris"));
		this.scheduler.advance(Duration.ofMinutes(90));
		assertThat(paris.instant()).isEqualTo(START.plus(Duration.ofMinutes(90)));
		assertThat(this.scheduler.getClock().millis()).isEqualTo(START.plus(Duration.ofMinutes(90)).toEpochMilli());
	}

	@Test
	void failsInsteadOfRunningForEverATaskThatKeepsSchedulingItselfInThePast() {
		Runnable[] again = new Runnable[1];
		again[0] = () -> this.scheduler.schedule(again[0], this.scheduler.now().minusSeconds(1));
		this.scheduler.schedule(again[0], START.plusSeconds(1));
		assertThatIllegalStateException().isThrownBy(() -> this.scheduler.advance(Duration.ofSeconds(2)))
			.withMessageContaining("More than 100000 tasks fell due in one advance");
		assertThat(this.scheduler.scheduledTaskCount()).isOne();
	}

	@Test
	void timeCannotGoBack() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.scheduler.advance(Duration.ofSeconds(-1)));
	}

	private Runnable record(String name) {
		return () -> this.log.add(name + "@" + elapsed());
	}

	private long elapsed() {
		return Duration.between(START, this.scheduler.now()).toSeconds();
	}

}
