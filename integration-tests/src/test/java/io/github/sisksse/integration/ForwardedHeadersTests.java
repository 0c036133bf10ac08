package io.github.sisksse.integration;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code sisk.sse.max-connections-per-client} behind a reverse proxy, simulated by requests from 127.0.0.1 that
 * carry the client's address in {@code X-Forwarded-For}: the limit counts the address the application's
 * {@code server.forward-headers-strategy} resolves, so each client behind the proxy has its own count, and
 * without a strategy they all count as the proxy. The addresses are documentation ones (RFC 5737), headers only.
 */
@Tag(ServletContainer.TAG)
class ForwardedHeadersTests {

	private static final Duration WAIT = Duration.ofSeconds(5);

	private static final HttpClient HTTP = HttpClient.newHttpClient();

	private static final String ALICE = "203.0.113.7";

	private static final String BOB = "198.51.100.4";

	@Nested
	@SpringBootTest(classes = ProxiedApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "server.forward-headers-strategy=native", "sisk.sse.max-connections-per-client=1" })
	class NativeStrategy extends ClientsBehindTheProxy {

		@Autowired
		WebServerApplicationContext context;

		@Test
		void runsOnTheContainerOfThisSurefireExecution() {
			// Native means the container's own support (Tomcat's RemoteIpValve, Jetty's ForwardedRequestCustomizer).
			ServletContainer.assertExpected(this.context.getWebServer());
		}

	}

	@Nested
	@SpringBootTest(classes = ProxiedApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "server.forward-headers-strategy=framework", "sisk.sse.max-connections-per-client=1" })
	class FrameworkStrategy extends ClientsBehindTheProxy {

	}

	@Nested
	@SpringBootTest(classes = ProxiedApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = "sisk.sse.max-connections-per-client=1")
	class NoStrategy extends Streams {

		@Test
		void everyClientBehindTheProxyCountsAsTheProxy() throws Exception {
			try (SseClient alice = open("a", ALICE)) {
				assertThat(alice.status()).isEqualTo(200);
				HttpResponse<String> bob = request("b", BOB);
				assertThat(bob.statusCode()).isEqualTo(429);
				assertThat(bob.body()).contains("127.0.0.1");
			}
		}

	}

	abstract static class ClientsBehindTheProxy extends Streams {

		@Test
		void eachClientBehindTheProxyHasItsOwnCount() throws Exception {
			try (SseClient alice = open("a", ALICE); SseClient bob = open("b", BOB)) {
				assertThat(alice.status()).isEqualTo(200);
				assertThat(bob.status()).as("another client behind the same proxy").isEqualTo(200);
				HttpResponse<String> aliceAgain = request("c", ALICE);
				assertThat(aliceAgain.statusCode()).isEqualTo(429);
				assertThat(aliceAgain.body()).contains(ALICE);
				assertThat(this.registry.get("a").orElseThrow().info().remoteAddress()).isEqualTo(ALICE);
			}
		}

	}

	abstract static class Streams {

		@LocalServerPort
		int port;

		@Autowired
		EventSourceRegistry registry;

		SseClient open(String id, String forwardedFor) {
			return SseClient.connect(this.port, "/open?id=" + id, Map.of("X-Forwarded-For", forwardedFor));
		}

		HttpResponse<String> request(String id, String forwardedFor) throws Exception {
			return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/open?id=" + id))
				.header("Accept", "text/event-stream")
				.header("X-Forwarded-For", forwardedFor)
				.build(), HttpResponse.BodyHandlers.ofString());
		}

		@AfterEach
		void closeEveryStream() {
			this.registry.all().forEach(EventSource::close);
			await().atMost(WAIT).until(() -> this.registry.connectionCount() == 0);
		}

	}

}
