package io.github.sisksse;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import io.github.sisksse.test.RawSseSocket;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.NestedTestConfiguration;
import org.springframework.test.context.NestedTestConfiguration.EnclosingConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Actuator endpoint and health, connection limits and graceful shutdown, over real HTTP.
 */
@Tag(ServletContainer.TAG)
@NestedTestConfiguration(EnclosingConfiguration.OVERRIDE)
class OperationsHttpTests {

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	static HttpResponse<String> request(int port, String method, String path) throws Exception {
		return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.method(method, HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "management.endpoints.web.exposure.include=eventsources,health",
					"management.endpoint.health.show-details=always", "sisk.sse.max-connections=50" })
	class Actuator extends HttpTestSupport {

		@Test
		void endpointListsLiveConnectionsAndDeleteClosesOneByIdentifier() throws Exception {
			try (SseClient alice = connect("/open?id=user-alice"); SseClient bob = connect("/open?id=user-bob")) {
				source("user-alice").send("hi");
				await().atMost(WAIT).until(() -> alice.data().contains("hi"));
				HttpResponse<String> read = request(this.port, "GET", "/actuator/eventsources");
				assertThat(read.statusCode()).isEqualTo(200);
				assertThat(read.body()).contains("\"connections\":2")
					.contains("\"identifier\":\"user-alice\"")
					.contains("\"identifier\":\"user-bob\"")
					.contains("\"remoteAddress\":\"127.0.0.1\"")
					.contains("\"openedAt\":\"")
					.contains("\"lastWriteAt\":\"")
					.contains("\"eventsWritten\":1")
					.contains("\"queuedEvents\":0");
				HttpResponse<String> deleted = request(this.port, "DELETE", "/actuator/eventsources/user-bob");
				assertThat(deleted.statusCode()).isEqualTo(200);
				assertThat(deleted.body()).contains("\"closed\":1");
				await().atMost(WAIT).until(bob::isEnded);
				assertThat(this.registry.get("user-bob")).isEmpty();
				assertThat(this.registry.get("user-alice")).isPresent();
				this.registry.all().forEach(EventSource::close);
			}
		}

		@Test
		void healthReportsConnectionsAgainstTheLimit() throws Exception {
			try (SseClient client = connect("/open?id=healthy")) {
				source("healthy");
				HttpResponse<String> health = request(this.port, "GET", "/actuator/health");
				assertThat(health.body()).contains("\"eventSources\"")
					.contains("\"connections\":1")
					.contains("\"maxConnections\":50");
				source("healthy").close();
			}
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sisk.sse.max-connections=2", "sisk.sse.retry=7s" })
	class GlobalLimit extends HttpTestSupport {

		@Test
		void fullRegistryAnswers503WithRetryAfterAndOpensAgainWhenAConnectionEnds() throws Exception {
			try (SseClient first = connect("/open?id=one"); SseClient second = connect("/open"); ) {
				HttpResponse<String> refused = request(this.port, "GET", "/open?id=three");
				assertThat(refused.statusCode()).isEqualTo(503);
				assertThat(refused.headers().firstValue("Retry-After")).hasValue("7");
				assertThat(refused.body()).contains("sisk.sse.max-connections=2");
				assertThat(this.registry.connectionCount()).isEqualTo(2);
				source("one").close();
				await().atMost(WAIT).until(() -> this.registry.connectionCount() == 1);
				try (SseClient third = connect("/open?id=three")) {
					assertThat(third.status()).isEqualTo(200);
					source("three").close();
				}
			}
			this.controller.anonymous.values().forEach(EventSource::close);
		}

	}

	@Nested
	@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "sisk.sse.max-connections-per-client=2")
	class PerClientLimit extends HttpTestSupport {

		@Test
		void oneClientWithTooManyStreamsIsAnswered429() throws Exception {
			try (SseClient first = connect("/open?id=a"); SseClient second = connect("/open?id=b")) {
				HttpResponse<String> refused = request(this.port, "GET", "/open?id=c");
				assertThat(refused.statusCode()).isEqualTo(429);
				assertThat(refused.headers().firstValue("Retry-After")).isPresent();
				assertThat(refused.body()).contains("127.0.0.1").contains("sisk.sse.max-connections-per-client=2");
				try (SseClient reconnected = connect("/open?id=b")) {
					assertThat(reconnected.status()).as("a client replacing its own stream is let through").isEqualTo(200);
					await().atMost(WAIT).until(second::isEnded);
				}
				source("a").close();
				await().atMost(WAIT).until(() -> this.registry.connectionCount() <= 1);
				try (SseClient third = connect("/open?id=c")) {
					assertThat(third.status()).isEqualTo(200);
				}
			}
			this.registry.all().forEach(EventSource::close);
		}

	}

	@Test
	void gracefulShutdownWithAThousandOpenStreamsDoesNotWaitForThem() throws Exception {
		ConfigurableApplicationContext context = SpringApplication.run(SseTestApplication.class, "--server.port=0",
				"--server.shutdown=graceful", "--sisk.sse.close-event.name=close", "--sisk.sse.ping.enabled=false");
		int port = context.getEnvironment().getProperty("local.server.port", Integer.class);
		EventSourceRegistry registry = context.getBean(EventSourceRegistry.class);
		List<RawSseSocket> sockets = new ArrayList<>();
		try {
			for (int i = 0; i < 1000; i++) {
				sockets.add(RawSseSocket.open(port, "/open?id=s" + i));
			}
			await().atMost(HttpTestSupport.WAIT).until(() -> registry.size() == 1000);
			long started = System.nanoTime();
			context.close();
			long tookMillis = (System.nanoTime() - started) / 1_000_000;
			System.out.println("Context close with 1000 open streams and server.shutdown=graceful took " + tookMillis
					+ " ms");
			// Without closing the streams first, Tomcat's graceful phase waits its full 30 s and then aborts.
			assertThat(tookMillis).as("shutdown took %d ms", tookMillis).isLessThan(10_000);
			assertThat(registry.size()).isZero();
			for (RawSseSocket socket : List.of(sockets.get(0), sockets.get(999))) {
				assertThat(socket.readToEnd()).contains("event: close");
			}
		}
		finally {
			for (RawSseSocket socket : sockets) {
				socket.close();
			}
			context.close();
		}
	}

}
