package io.github.sisksse;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.http.HttpStatus;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Opening and releasing sources against the connection limits, on parts of their own, with a host that only
 * passes the end of a source back to the gate, as the registry does.
 */
class GateTests {

	// Set by gate(builder), which each test calls first.
	private RegistryParts parts;

	private RegistryLifecycle lifecycle;

	private Gate gate;

	private final SourceHost host = new SourceHost() {

		@Override
		public boolean sendFrom(DefaultEventSource source, Object data) {
			return false;
		}

		@Override
		public void ended(DefaultEventSource source) {
			GateTests.this.gate.ended(source);
		}

		@Override
		public void close(DefaultEventSource source) {
			source.end(CloseReason.CLOSED_BY_SERVER, true, true, null, null);
		}

	};

	@AfterEach
	void destroy() {
		RequestContextHolder.resetRequestAttributes();
		if (this.lifecycle != null) {
			this.lifecycle.destroy();
		}
	}

	// No request will bind the sources: a graceful end completes once the bind deadline ends them.
	private Gate gate(EventSourceRegistry.Builder builder) {
		this.parts = RegistryParts.start(builder.pingEnabled(false).bindTimeout(Duration.ofMillis(200)));
		this.lifecycle = new RegistryLifecycle(this.parts);
		this.gate = new Gate(this.parts, this.lifecycle, this.host);
		return this.gate;
	}

	private Admission admission() {
		return this.parts.admission();
	}

	private static void request(String method, String address) {
		MockHttpServletRequest request = new MockHttpServletRequest(method, "/events");
		request.setRemoteAddr(address);
		RequestContextHolder.setRequestAttributes(new ServletRequestAttributes(request));
	}

	@Test
	void aClientAtItsLimitTakesOverThePlaceOfTheSourceItReplacesWhichIsNotReleasedTwice() {
		Gate gate = gate(EventSourceRegistry.builder().maxConnections(null, 1));
		request("GET", "10.0.0.1");
		EventSource first = gate.open("user");
		EventSource second = gate.open("user");
		// Bound, so that the bind deadline which ends the first does not end it too.
		EventSourceConnection connection = EventSourceConnection.of(second).orElseThrow();
		SendCoreTests.TestSink sink = new SendCoreTests.TestSink();
		connection.bind(sink);
		sink.connection = connection;
		connection.writable();
		assertThat(first.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.REPLACED);
		assertThat(second.isOpen()).isTrue();
		assertThat(admission().count()).isEqualTo(1);
		// The replaced source's end found it out of the index: the place it handed over is still the successor's.
		assertThatExceptionOfType(EventSourceRejectedException.class).isThrownBy(() -> gate.open("another"))
			.satisfies((ex) -> assertThat(ex.getStatusCode()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS));
		assertThat(admission().count()).isEqualTo(1);
		second.close();
		await().atMost(Duration.ofSeconds(5)).untilTrue(sink.completed);
		await().atMost(Duration.ofSeconds(5)).until(() -> admission().count() == 0);
		assertThat(gate.open("another").isOpen()).isTrue();
	}

	@Test
	void aDuplicateRefusedByTheRejectPolicyGivesItsPlaceBack() {
		Gate gate = gate(EventSourceRegistry.builder().duplicateIdentifier(DuplicateIdentifierPolicy.REJECT));
		EventSource first = gate.open("user");
		assertThatExceptionOfType(EventSourceRejectedException.class).isThrownBy(() -> gate.open("user"))
			.satisfies((ex) -> assertThat(ex.getStatusCode()).isEqualTo(HttpStatus.CONFLICT));
		assertThat(first.isOpen()).isTrue();
		assertThat(admission().count()).isEqualTo(1);
	}

	@Test
	void aHeadRequestGetsADetachedSourceThatTakesNoPlace() {
		Gate gate = gate(EventSourceRegistry.builder().maxConnections(1, null));
		request("HEAD", "10.0.0.1");
		EventSource head = gate.open("user");
		assertThat(head.isOpen()).isFalse();
		assertThat(head.whenClosed()).isCompletedWithValue(CloseReason.CLIENT_GONE);
		assertThat(admission().count()).isZero();
		request("GET", "10.0.0.1");
		assertThat(gate.open("user").isOpen()).isTrue();
	}

	@Test
	void aStoppedRegistryRefusesBeforeTakingAPlace() {
		Gate gate = gate(EventSourceRegistry.builder());
		this.lifecycle.stop();
		assertThatExceptionOfType(EventSourceRejectedException.class).isThrownBy(() -> gate.open("user"))
			.satisfies((ex) -> assertThat(ex.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
		assertThatExceptionOfType(EventSourceRejectedException.class).isThrownBy(gate::open);
		assertThat(admission().count()).isZero();
	}

}
