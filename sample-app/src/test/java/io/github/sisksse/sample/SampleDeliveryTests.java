package io.github.sisksse.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.jayway.jsonpath.JsonPath;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What {@code POST /send/{user}} and {@code POST /broadcast} answer: delivered live, queued for replay while a
 * stream's client is between two connections (and then really replayed), or not sent at all. Streams of other
 * tests in the same application context may still be in the replay window, hence the names unique to each test.
 */
@Tag(ServletContainer.TAG)
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class SampleDeliveryTests {

	private static final Duration WAIT = Duration.ofSeconds(5);

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(WAIT)
		.build();

	@LocalServerPort
	int port;

	@Autowired
	EventSourceRegistry registry;

	private final List<SseClient> clients = new ArrayList<>();

	@AfterEach
	void closeEveryStream() {
		this.clients.forEach(SseClient::close);
		this.registry.all().forEach(EventSource::close);
		await().atMost(WAIT).until(() -> this.registry.size() == 0);
	}

	@Test
	void sendToALiveUserAnswersDeliveredLive() throws Exception {
		SseClient grace = connect("/events?user=grace");
		HttpResponse<String> response = post("/send/grace", "Hi Grace");
		assertThat(response.statusCode()).isEqualTo(202);
		assertThat(JsonPath.<Integer>read(response.body(), "$.live")).isEqualTo(1);
		assertThat(JsonPath.<List<String>>read(response.body(), "$.queuedForReplay")).isEmpty();
		await().atMost(WAIT).until(() -> grace.messages().contains("Hi Grace"));
	}

	@Test
	void sendToAUserWhoseStreamJustEndedIsQueuedForReplayAndArrivesWhenItResumes() throws Exception {
		String lastId = leave("heidi");
		HttpResponse<String> response = post("/send/heidi", "While you were away");
		assertThat(response.statusCode()).isEqualTo(202);
		assertThat(JsonPath.<Integer>read(response.body(), "$.live")).isZero();
		assertThat(JsonPath.<List<String>>read(response.body(), "$.queuedForReplay")).containsExactly("user-heidi");
		SseClient resumed = connect("/events?user=heidi&lastEventId=" + lastId);
		await().atMost(WAIT).until(() -> !resumed.messages().isEmpty());
		assertThat(resumed.messages()).containsExactly("While you were away");
	}

	@Test
	void sendToAUserWithNoRecentStreamAnswers404AndKeepsNothing() throws Exception {
		assertThat(post("/send/ivan", "Nobody is listening").statusCode()).isEqualTo(404);
		SseClient ivan = connect("/events?user=ivan");
		assertThat(post("/send/ivan", "Now you are").statusCode()).isEqualTo(202);
		await().atMost(WAIT).until(() -> !ivan.messages().isEmpty());
		assertThat(ivan.messages()).containsExactly("Now you are");
	}

	@Test
	void broadcastAnswersTheLiveCountAndTheStreamsQueuedForReplay() throws Exception {
		SseClient here = connect("/events?user=judy-here");
		String awayLastId = leave("judy-away");
		HttpResponse<String> response = post("/broadcast?prefix=user-judy-", "Hello, Judys");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(JsonPath.<Integer>read(response.body(), "$.live")).isEqualTo(1);
		assertThat(JsonPath.<List<String>>read(response.body(), "$.queuedForReplay")).containsExactly("user-judy-away");
		await().atMost(WAIT).until(() -> !here.messages().isEmpty());
		assertThat(here.messages()).containsExactly("Hello, Judys");
		SseClient back = connect("/events?user=judy-away&lastEventId=" + awayLastId);
		await().atMost(WAIT).until(() -> !back.messages().isEmpty());
		assertThat(back.messages()).containsExactly("Hello, Judys");
	}

	/**
	 * Open a user's stream, then end it as a dropped connection would, and return the last event id its client saw.
	 */
	private String leave(String user) {
		SseClient client = connect("/events?user=" + user);
		await().atMost(WAIT).until(() -> !client.lastEventId().isEmpty());
		this.registry.get("user-" + user).orElseThrow().close();
		await().atMost(WAIT).until(client::isEnded);
		return client.lastEventId();
	}

	private SseClient connect(String pathAndQuery) {
		SseClient client = SseClient.connect(this.port, pathAndQuery);
		this.clients.add(client);
		return client;
	}

	private HttpResponse<String> post(String pathAndQuery, String body) throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + pathAndQuery))
			.header("Content-Type", "text/plain;charset=UTF-8")
			.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
			.build();
		return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
	}

}
