package io.github.sisksse;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.springframework.http.HttpStatus;

/**
 * The running state of a registry and its shutdown: every source from its start until it has ended, including
 * those still writing their last events after leaving the index; at stop, each is closed with
 * {@link CloseReason#SHUTDOWN} and a jittered reconnection delay; at destroy, those still writing are ended and the
 * {@link RegistryParts} stopped.
 * <p>
 * <b>Thread safety.</b> The running flag is volatile and the unfinished sources are a concurrent set. A starting
 * source is added to the set before the flag is read again, and a stop clears the flag before it copies the set,
 * so a source that starts during a stop is either closed by the stop or ends itself: none is left open.
 */
final class RegistryLifecycle {

	private static final long SHUTDOWN_WAIT_MILLIS = 5000;

	private static final Duration SHUTDOWN_RETRY_SPREAD = Duration.ofSeconds(30);

	private final RegistryParts parts;

	/** Every source until it has ended, including those still writing their last events after leaving the index. */
	private final Set<DefaultEventSource> unfinished = ConcurrentHashMap.newKeySet();

	private volatile boolean running = true;

	RegistryLifecycle(RegistryParts parts) {
		this.parts = parts;
	}

	/**
	 * Refuse a new source once stopped.
	 * @throws EventSourceRejectedException with {@code 503} if stopped
	 */
	void checkRunning() {
		if (!this.running) {
			throw new EventSourceRejectedException(HttpStatus.SERVICE_UNAVAILABLE,
					"The event source registry is stopped");
		}
	}

	/**
	 * Start a source that was admitted and registered, keeping it until it has ended; one that lost a race with
	 * {@link #stop(Runnable)} is ended at once.
	 */
	void started(DefaultEventSource source) {
		this.unfinished.add(source);
		source.whenClosed().whenComplete((reason, ex) -> this.unfinished.remove(source));
		source.start();
		CurrentRequest.onHandlerEnd(source);
		if (!this.running) {
			// Lost a race with stop(): it may not have seen this source.
			source.end(CloseReason.SHUTDOWN, true, true, null, null);
		}
	}

	void start() {
		this.running = true;
	}

	/**
	 * Close every source with {@link CloseReason#SHUTDOWN}, sending the close event, and report back once all
	 * responses are complete, or after a few seconds if some client does not read.
	 */
	void stop(Runnable callback) {
		this.running = false;
		List<DefaultEventSource> sources = List.copyOf(this.unfinished);
		CompletableFuture<?>[] ended = new CompletableFuture<?>[sources.size()];
		Duration retry = this.parts.retry();
		long base = (retry != null) ? retry.toMillis() : 3000;
		for (int i = 0; i < ended.length; i++) {
			ended[i] = sources.get(i).whenClosed();
			// Spread the reconnections of thousands of clients over half a minute instead of one second.
			long retryMillis = base + ThreadLocalRandom.current().nextLong(SHUTDOWN_RETRY_SPREAD.toMillis());
			// A source no handler returned yet has nowhere to write its close event: it ends at once.
			sources.get(i).end(CloseReason.SHUTDOWN, sources.get(i).isBound(), true,
					EventEncoder.retry(Duration.ofMillis(retryMillis)), null);
		}
		CompletableFuture.allOf(ended)
			.completeOnTimeout(null, SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS)
			.whenComplete((result, ex) -> callback.run());
	}

	void stop() {
		CompletableFuture<Void> stopped = new CompletableFuture<>();
		stop(() -> stopped.complete(null));
		stopped.join();
	}

	boolean isRunning() {
		return this.running;
	}

	/**
	 * Stop if still running, end whatever did not finish writing in time, and stop the parts.
	 */
	void destroy() {
		if (this.running) {
			stop();
		}
		// Whatever did not finish writing in time is ended now, and the turns still queued are abandoned:
		// completing a response never blocks.
		List.copyOf(this.unfinished).forEach((source) -> source.end(CloseReason.SHUTDOWN, false, false, null, null));
		this.parts.stop();
	}

}
