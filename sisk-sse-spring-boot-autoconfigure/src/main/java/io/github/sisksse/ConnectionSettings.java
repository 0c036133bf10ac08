package io.github.sisksse;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.scheduling.TaskScheduler;

/**
 * What every connection of one registry shares: its settings, already encoded, and the registry's services.
 * Immutable, so thread-safe.
 *
 * @param scheduler runs the timers
 * @param encoder encodes pings configured per connection
 * @param writers writes queued bytes
 * @param listeners hear what happens
 * @param pingEnabled whether pings start with the connection
 * @param pingInterval the default ping interval
 * @param pingFrame the default ping, encoded
 * @param pingResetsWaitForFail whether a written ping restarts the idle timeout
 * @param waitForFail the default idle timeout, if any
 * @param maxLifetime the maximum lifetime, if any
 * @param bindTimeout how long the handler may take to return the source
 * @param openFrame the first bytes of every stream: the retry line or an empty comment
 * @param closeEvent the close event, encoded, if any
 * @param queueMaxEvents the outbound queue's event bound
 * @param queueMaxBytes the outbound queue's byte bound
 * @param overflow what a full queue does
 */
record ConnectionSettings(TaskScheduler scheduler, EventEncoder encoder, WriterPool writers, Listeners listeners,
		boolean pingEnabled, Duration pingInterval, byte[] pingFrame, boolean pingResetsWaitForFail,
		@Nullable Duration waitForFail, @Nullable Duration maxLifetime, Duration bindTimeout, byte[] openFrame,
		byte @Nullable [] closeEvent, int queueMaxEvents, long queueMaxBytes, OverflowPolicy overflow) {

	OutboundQueue newQueue() {
		return new OutboundQueue(this.queueMaxEvents, this.queueMaxBytes, this.overflow);
	}

}
