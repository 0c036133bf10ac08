package io.github.sisksse.sample;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.jayway.jsonpath.JsonPath;
import io.github.sisksse.DuplicateIdentifierPolicy;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.OverflowPolicy;
import io.github.sisksse.PingPolicy;
import io.github.sisksse.autoconfigure.SiskSseProperties;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.unit.DataSize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * The sample's whole HTTP contract, over real HTTP on a random port, with streams read by a real SSE client. The
 * tests share one application context, where an ended stream stays "between two connections" for the replay window:
 * the tests that look at what is queued for replay use user names no other test uses.
 */
@Tag(ServletContainer.TAG)
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class SampleApplicationTests {

	private static final Duration WAIT = Duration.ofSeconds(5);

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(WAIT)
		.build();

	@LocalServerPort
	int port;

	@Autowired
	EventSourceRegistry registry;

	@Autowired
	SiskSseProperties properties;

	private final List<SseClient> clients = new ArrayList<>();

	@AfterEach
	void closeEveryStream() {
		this.clients.forEach(SseClient::close);
		this.registry.all().forEach(EventSource::close);
		await().atMost(WAIT).until(() -> this.registry.size() == 0);
	}

	@Test
	void eventsRegistersTheStreamAsUserDashNameSoItIsListedInConnections() throws Exception {
		SseClient alice = connect("/events?user=alice");
		assertThat(alice.status()).isEqualTo(200);
		assertThat(alice.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("text/event-stream"));
		await().atMost(WAIT).until(() -> alice.retry() != null);
		assertThat(alice.retry()).isEqualTo(3000L);
		assertThat(this.registry.get("user-alice")).isPresent();
		HttpResponse<String> connections = get("/connections");
		assertThat(connections.statusCode()).isEqualTo(200);
		assertThat(connections.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("application/json"));
		List<String> identifiers = JsonPath.read(connections.body(), "$");
		assertThat(identifiers).containsExactly("user-alice");
	}

	@Test
	void eventsRefusesABlankOrMissingUserNameWith400() throws Exception {
		assertThat(connect("/events?user=%20%20").status()).isEqualTo(400);
		assertThat(connect("/events?user=").status()).isEqualTo(400);
		assertThat(connect("/events").status()).isEqualTo(400);
		assertThat(this.registry.size()).isZero();
	}

	@Test
	void sendDeliversTheBodyToTheUsersStreamAndAnswers202() throws Exception {
		SseClient bob = connect("/events?user=bob");
		HttpResponse<String> response = post("/send/bob", "Hi Bob!\nSecond line.");
		assertThat(response.statusCode()).isEqualTo(202);
		assertThat(JsonPath.<Integer>read(response.body(), "$.live")).isEqualTo(1);
		assertThat(JsonPath.<List<String>>read(response.body(), "$.queuedForReplay")).isEmpty();
		await().atMost(WAIT).until(() -> !bob.events().isEmpty());
		assertThat(bob.events()).extracting(SseEvent::type, SseEvent::data)
			.containsExactly(tuple("message", "Hi Bob!\nSecond line."));
	}

	@Test
	void sendAnswers404ForAUserWhoIsNotConnected() throws Exception {
		SseClient bob = connect("/events?user=bob");
		assertThat(post("/send/nobody", "Hello?").statusCode()).isEqualTo(404);
		assertThat(post("/send/user-bob", "Wrong name").statusCode()).isEqualTo(404);
		assertThat(post("/send/bob", "Right name").statusCode()).isEqualTo(202);
		await().atMost(WAIT).until(() -> !bob.messages().isEmpty());
		assertThat(bob.messages()).containsExactly("Right name");
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

	@Test
	void broadcastSendsToEveryStreamWhoseIdentifierStartsWithThePrefixAndAnswersTheLiveCount() throws Exception {
		SseClient alice = connect("/events?user=alice");
		SseClient bob = connect("/events?user=bob");
		SseClient ticker = connect("/ticker");
		HttpResponse<String> response = post("/broadcast?prefix=user-", "Hello, users!");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(JsonPath.<Integer>read(response.body(), "$.live")).isEqualTo(2);
		await().atMost(WAIT).until(() -> !alice.messages().isEmpty() && !bob.messages().isEmpty());
		assertThat(alice.messages()).containsExactly("Hello, users!");
		assertThat(bob.messages()).containsExactly("Hello, users!");
		assertThat(JsonPath.<Integer>read(post("/broadcast?prefix=user-a", "Only Alice").body(), "$.live")).isEqualTo(1);
		await().atMost(WAIT).until(() -> alice.messages().size() == 2);
		assertThat(alice.messages()).containsExactly("Hello, users!", "Only Alice");
		assertThat(JsonPath.<Integer>read(
				post("/broadcast?prefix=" + URLEncoder.encode("nobody-", StandardCharsets.UTF_8), "Anyone?").body(),
				"$.live"))
			.isZero();
		assertThat(ticker.data()).noneMatch((data) -> data.contains("users") || data.contains("Alice"));
		assertThat(bob.messages()).containsExactly("Hello, users!");
	}

	@Test
	void helloSendsHelloWorldThenTheCloseEventWithByeAndEndsTheStream() {
		SseClient hello = connect("/hello");
		await().atMost(WAIT).until(hello::isEnded);
		assertThat(hello.events()).extracting(SseEvent::type, SseEvent::data)
			.containsExactly(tuple("message", "Hello, world!"), tuple("close", "bye"));
		assertThat(this.registry.size()).isZero();
	}

	@Test
	void tickerReceivesTheTimeAsAJsonObjectEverySecond() throws Exception {
		SseClient ticker = connect("/ticker");
		List<String> identifiers = JsonPath.read(get("/connections").body(), "$");
		assertThat(identifiers).singleElement().asString().startsWith("ticker-");
		await().atMost(WAIT).until(() -> ticker.data().size() >= 2);
		String tick = ticker.data().get(0);
		assertThat(JsonPath.<String>read(tick, "$.time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
		assertThat(JsonPath.<Integer>read(tick, "$.connections")).isEqualTo(1);
		assertThat(JsonPath.<Integer>read(tick, "$.port")).isEqualTo(this.port);
		assertThat(ticker.events()).extracting(SseEvent::type).containsOnly("message");
	}

	@Test
	void aSecondStreamForTheSameUserReplacesTheFirstWhichReceivesTheCloseEvent() throws Exception {
		SseClient firstTab = connect("/events?user=dave");
		SseClient secondTab = connect("/events?user=dave");
		await().atMost(WAIT).until(firstTab::isEnded);
		assertThat(firstTab.events()).filteredOn((event) -> !event.type().equals("tick"))
			.extracting(SseEvent::type, SseEvent::data)
			.containsExactly(tuple("close", "bye"));
		assertThat(post("/send/dave", "Only the newest tab").statusCode()).isEqualTo(202);
		await().atMost(WAIT).until(() -> !secondTab.messages().isEmpty());
		assertThat(secondTab.messages()).containsExactly("Only the newest tab");
		assertThat(JsonPath.<List<String>>read(get("/connections").body(), "$")).containsExactly("user-dave");
	}

	@Test
	void aPageThatResumesWithItsLastEventIdFirstReceivesTheTicksItMissed() throws Exception {
		SseClient before = connect("/events?user=erin");
		await().atMost(WAIT).until(() -> !ticks(before).isEmpty());
		String lastId = ticks(before).get(ticks(before).size() - 1).lastEventId();
		before.close();
		Thread.sleep(2200); // pacing: stay away for two ticks
		Instant resumedAt = Instant.now();
		SseClient after = connect("/events?user=erin&lastEventId=" + lastId);
		await().atMost(WAIT).until(() -> !ticks(after).isEmpty());
		SseEvent first = ticks(after).get(0);
		// Ids are positions in the registry's log: "<epoch>-<position>".
		assertThat(first.lastEventId()).startsWith(lastId.substring(0, lastId.indexOf('-') + 1));
		assertThat(position(first.lastEventId())).isGreaterThan(position(lastId));
		assertThat(Instant.parse(JsonPath.<String>read(first.data(), "$.time"))).as("a tick sent while away")
			.isBefore(resumedAt);
	}

	private static long position(String id) {
		return Long.parseLong(id.substring(id.indexOf('-') + 1));
	}

	private static List<SseEvent> ticks(SseClient client) {
		return client.events().stream().filter((event) -> event.type().equals("tick")).toList();
	}

	@Test
	void theIndexPageIsServedAtTheRoot() throws Exception {
		HttpResponse<String> page = HTTP.send(HttpRequest.newBuilder(uri("/")).header("Accept", "text/html").build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(page.statusCode()).isEqualTo(200);
		assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(
				(type) -> assertThat(type).startsWith("text/html"));
		assertThat(page.body()).contains("new EventSource(", "/ticker", "/events?user=", "/send/", "/broadcast?prefix=",
				"/connections");
	}

	@Test
	void applicationYmlConfiguresEverySiskSsePropertyAsDocumented() {
		assertThat(this.properties.isEnabled()).isTrue();
		assertThat(this.properties.getWaitForFail()).isNull();
		assertThat(this.properties.getMaxLifetime()).isNull();
		assertThat(this.properties.getRetry()).isEqualTo(Duration.ofSeconds(3));
		assertThat(this.properties.getDuplicateIdentifier()).isEqualTo(DuplicateIdentifierPolicy.REPLACE);
		assertThat(this.properties.getWriterThreads()).isEqualTo(2);
		assertThat(this.properties.getWriteTimeout()).isEqualTo(Duration.ofSeconds(30));
		assertThat(this.properties.getBindTimeout()).isEqualTo(Duration.ofSeconds(10));
		assertThat(this.properties.getMaxConnections()).isEqualTo(8000);
		assertThat(this.properties.getMaxConnectionsPerClient()).isEqualTo(50);
		assertThat(this.properties.isApplicationEvents()).isTrue();
		assertThat(this.properties.getReplay().isEnabled()).isTrue();
		assertThat(this.properties.getReplay().getMaxEvents()).isEqualTo(10_000);
		assertThat(this.properties.getReplay().getMaxBytes()).isEqualTo(DataSize.ofMegabytes(16));
		assertThat(this.properties.getReplay().getMaxAge()).isEqualTo(Duration.ofMinutes(5));
		assertThat(this.properties.getReplay().getResetEvent()).isEqualTo("sisk-reset");
		assertThat(this.properties.getPing().isEnabled()).isTrue();
		assertThat(this.properties.getPing().getInterval()).isEqualTo(Duration.ofSeconds(15));
		assertThat(this.properties.getPing().getFormat()).isEqualTo(PingPolicy.Format.COMMENT);
		assertThat(this.properties.getPing().getMessage()).isEqualTo("ping");
		assertThat(this.properties.getPing().getEventName()).isEqualTo("ping");
		assertThat(this.properties.getPing().isResetsWaitForFail()).isFalse();
		assertThat(this.properties.getCloseEvent().getName()).isEqualTo("close");
		assertThat(this.properties.getCloseEvent().getData()).isEqualTo("bye");
		assertThat(this.properties.getQueue().getMaxEvents()).isEqualTo(1000);
		assertThat(this.properties.getQueue().getMaxBytes()).isEqualTo(DataSize.ofMegabytes(1));
		assertThat(this.properties.getQueue().getOverflow()).isEqualTo(OverflowPolicy.CLOSE);
	}

	/**
	 * Open a user's stream and end it, leaving the stream between two connections; return the last event id its
	 * client saw.
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

	private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
		return HTTP.send(HttpRequest.newBuilder(uri(pathAndQuery)).header("Accept", "application/json").build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> post(String pathAndQuery, String body) throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(uri(pathAndQuery))
			.header("Content-Type", "text/plain;charset=UTF-8")
			.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
			.build();
		return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private URI uri(String pathAndQuery) {
		return URI.create("http://127.0.0.1:" + this.port + pathAndQuery);
	}

}
