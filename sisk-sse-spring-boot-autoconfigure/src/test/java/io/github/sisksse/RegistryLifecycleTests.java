package io.github.sisksse;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.http.HttpStatus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.awaitility.Awaitility.await;

/**
 * The running state and shutdown of a registry, on parts of its own and sources that no registry hosts.
 */
class RegistryLifecycleTests {

	private final RegistryParts parts = RegistryParts.start(EventSourceRegistry.builder()
		.pingEnabled(false)
		.bindTimeout(Duration.ofMillis(200))
		.retry(Duration.ofSeconds(2))
		.writeTimeout(Duration.ofMinutes(5)));

	private final RegistryLifecycle lifecycle = new RegistryLifecycle(this.parts);

	private final SourceHost host = Gate.DETACHED;

	@AfterEach
	void destroy() {
		this.lifecycle.destroy();
	}

	private DefaultEventSource started() {
		DefaultEventSource source = new DefaultEventSource(null, null, this.parts.connections(), this.host,
				this.parts.log().resume(null));
		this.lifecycle.started(source);
		return source;
	}

	@Test
	void stopClosesEverySourceWithAJitteredRetryAndReportsBackOnceAllHaveEnded() {
		DefaultEventSource bound = started();
		SendCoreTests.TestSink sink = SendCoreTests.bind(bound, new SendCoreTests.TestSink());
		DefaultEventSource unbound = started();
		CompletableFuture<Void> stopped = new CompletableFuture<>();
		this.lifecycle.stop(() -> stopped.complete(null));
		assertThat(this.lifecycle.isRunning()).isFalse();
		assertThat(bound.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.SHUTDOWN);
		assertThat(unbound.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.SHUTDOWN);
		assertThat(stopped).succeedsWithin(Duration.ofSeconds(5));
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
		// The configured delay, spread over the next half a minute.
		Matcher retry = Pattern.compile("retry: (\\d+)\n\n$").matcher(sink.text());
		assertThat(retry.find()).as(sink.text()).isTrue();
		assertThat(Long.parseLong(retry.group(1))).isBetween(2000L, 31_999L);
	}

	@Test
	void aSourceThatStartsAfterAStopIsEndedAtOnce() {
		this.lifecycle.stop();
		DefaultEventSource late = started();
		assertThat(late.isOpen()).isFalse();
		assertThat(late.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.SHUTDOWN);
	}

	@Test
	void aStoppedLifecycleRefusesNewSourcesUntilStartedAgain() {
		assertThatNoException().isThrownBy(this.lifecycle::checkRunning);
		this.lifecycle.stop();
		assertThatExceptionOfType(EventSourceRejectedException.class).isThrownBy(this.lifecycle::checkRunning)
			.satisfies((ex) -> assertThat(ex.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
		this.lifecycle.start();
		assertThat(this.lifecycle.isRunning()).isTrue();
		assertThatNoException().isThrownBy(this.lifecycle::checkRunning);
	}

	@Test
	void destroyEndsWhatTheStopLeftWritingAndStopsTheParts() {
		DefaultEventSource stalled = started();
		SendCoreTests.TestSink sink = SendCoreTests.bind(stalled, new SendCoreTests.TestSink().stuck());
		await().atMost(Duration.ofSeconds(5)).until(() -> sink.writes.get() > 0);
		CompletableFuture<Void> stopped = new CompletableFuture<>();
		this.lifecycle.stop(() -> stopped.complete(null));
		// Its close event cannot be written: the stop waits for it (a few seconds at most).
		assertThat(stalled.whenClosed()).isNotDone();
		this.lifecycle.destroy();
		assertThat(stalled.whenClosed()).isCompletedWithValue(CloseReason.SHUTDOWN);
		assertThat(sink.completed).isTrue();
		assertThat(this.parts.dispatcher().wake()).isFalse();
	}

}
