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
import java.util.Map;

import com.jayway.jsonpath.JsonPath;
import io.github.sisksse.redis.EmbeddedRedis;
import io.github.sisksse.test.ServletContainer;
import io.github.sisksse.test.SseClient;
import io.github.sisksse.test.SseEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample's HTTP contract across two instances on one Redis, run as the README runs them: two
 * {@link SampleApplication}s with {@code --sisk.sse.broker=redis --spring.data.redis.url=...}, each on a port of its
 * own, sharing a real redis-server that the test starts. Each test uses user names no other test uses, as the
 * instances are shared.
 */
@Tag(ServletContainer.TAG)
class SampleTwoInstancesTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(WAIT)
		.build();

	private static EmbeddedRedis redis;

	private static Instance a;

	private static Instance b;

	private final List<SseClient> clients = new ArrayList<>();

	@BeforeAll
	static void startTwoInstancesOnOneRedis() {
		redis = EmbeddedRedis.start();
		a = Instance.start(redis);
		b = Instance.start(redis);
	}

	@AfterAll
	static void stop() {
		for (AutoCloseable closeable : new AutoCloseable[] { a, b, redis }) {
			try {
				if (closeable != null) {
					closeable.close();
				}
			}
			catch (Exception ex) {
				// Stopping anyway.
			}
		}
	}

	@AfterEach
	void closeTheClients() {
		this.clients.forEach(SseClient::close);
	}

	@Test
	void bothInstancesRunOnTheContainerOfThisSurefireExecution() {
		ServletContainer.assertExpected(((WebServerApplicationContext) a.context()).getWebServer());
		ServletContainer.assertExpected(((WebServerApplicationContext) b.context()).getWebServer());
		assertThat(a.port()).isNotEqualTo(b.port());
	}

	@Test
	void aStreamOnOneInstanceReceivesWhatIsSentAndBroadcastOnTheOtherAndTheAnswersCountBoth() throws Exception {
		SseClient ann = connect(a, "/events?user=cross-ann");
		SseClient bob = connect(b, "/events?user=cross-bob");
		await().atMost(WAIT).until(() -> connections(b).contains("user-cross-ann")
				&& connections(a).contains("user-cross-bob"));

		HttpResponse<String> sent = post(b, "/send/cross-ann", "From B");
		assertThat(sent.statusCode()).isEqualTo(202);
		assertThat(JsonPath.<Integer>read(sent.body(), "$.live")).isEqualTo(1);
		assertThat(JsonPath.<List<String>>read(sent.body(), "$.queuedForReplay")).isEmpty();
		HttpResponse<String> broadcast = post(b, "/broadcast?prefix=user-cross-", "Broadcast from B");
		assertThat(broadcast.statusCode()).isEqualTo(200);
		assertThat(JsonPath.<Integer>read(broadcast.body(), "$.live")).as("ann on A and bob on B").isEqualTo(2);
		assertThat(JsonPath.<List<String>>read(broadcast.body(), "$.queuedForReplay")).isEmpty();
		HttpResponse<String> back = post(a, "/send/cross-bob", "From A");
		assertThat(back.statusCode()).isEqualTo(202);
		assertThat(JsonPath.<Integer>read(back.body(), "$.live")).isEqualTo(1);

		await().atMost(WAIT).until(() -> ann.messages().size() >= 2 && bob.messages().size() >= 2);
		assertThat(ann.messages()).containsExactly("From B", "Broadcast from B");
		assertThat(bob.messages()).containsExactly("Broadcast from B", "From A");
		assertThat(post(a, "/send/cross-nobody", "Hello?").statusCode()).isEqualTo(404);
		assertThat(post(b, "/send/cross-nobody", "Hello?").statusCode()).isEqualTo(404);
	}

	@Test
	void connectionsOnEitherInstanceListsTheStreamsOfBothUntilTheyEnd() throws Exception {
		SseClient carol = connect(a, "/events?user=list-carol");
		connect(b, "/events?user=list-dave");
		await().atMost(WAIT).until(() -> connections(a).containsAll(List.of("user-list-carol", "user-list-dave"))
				&& connections(b).containsAll(List.of("user-list-carol", "user-list-dave")));
		assertThat(connections(b)).isSorted();
		carol.close();
		await().atMost(WAIT).until(() -> !connections(a).contains("user-list-carol")
				&& !connections(b).contains("user-list-carol"));
		assertThat(connections(a)).contains("user-list-dave");
		assertThat(connections(b)).contains("user-list-dave");
	}

	/**
	 * Erin leaves instance A; messages are sent to her from both instances, ticks from both keep coming; she comes
	 * back to instance B with her {@code Last-Event-ID}. A witness on B, connected all along, receives the same
	 * ticks (the same entries of the shared log, with the same ids): what Erin gets is compared with it.
	 */
	@Test
	void aClientThatReconnectsToTheOtherInstanceWithItsLastEventIdGetsExactlyWhatItMissedOnceAndInOrder()
			throws Exception {
		SseClient witness = connect(b, "/events?user=hop-witness");
		SseClient erin = connect(a, "/events?user=hop-erin");
		await().atMost(WAIT).until(() -> connections(b).contains("user-hop-erin"));
		assertThat(post(b, "/send/hop-erin", "before").statusCode()).isEqualTo(202);
		await().atMost(WAIT).until(() -> erin.messages().contains("before"));
		erin.close();
		String lastId = erin.lastEventId();
		// Away: A notices at its next write, then B once A reports it.
		await().atMost(WAIT).until(() -> !connections(a).contains("user-hop-erin")
				&& !connections(b).contains("user-hop-erin"));

		List<String> missed = List.of("missed 1, sent on A", "missed 2, sent on B", "missed 3, broadcast on B",
				"missed 4, broadcast on A");
		assertQueuedForReplay(post(a, "/send/hop-erin", missed.get(0)), 202);
		assertQueuedForReplay(post(b, "/send/hop-erin", missed.get(1)), 202);
		assertQueuedForReplay(post(b, "/broadcast?prefix=user-hop-e", missed.get(2)), 200);
		assertQueuedForReplay(post(a, "/broadcast?prefix=user-hop-e", missed.get(3)), 200);

		SseClient resumed = connect(b, "/events?user=hop-erin", Map.of("Last-Event-ID", lastId));
		assertThat(resumed.status()).isEqualTo(200);
		assertThat(post(a, "/send/hop-erin", "live again").statusCode()).isEqualTo(202);
		await().atMost(WAIT).until(() -> resumed.messages().contains("live again"));
		assertThat(resumed.messages()).as("each message sent while away, once, in order, then the live one")
			.containsExactly("missed 1, sent on A", "missed 2, sent on B", "missed 3, broadcast on B",
					"missed 4, broadcast on A", "live again");

		// Ids are positions in the shared log, "<epoch>-<position>": one epoch, increasing, none seen before.
		String epoch = epoch(lastId);
		List<SseEvent> received = resumed.events();
		assertThat(received).extracting(SseEvent::lastEventId).allSatisfy((id) -> assertThat(epoch(id)).isEqualTo(epoch));
		List<Long> positions = received.stream().map((event) -> position(event.lastEventId())).toList();
		assertThat(positions).isSorted().doesNotHaveDuplicates().allMatch((position) -> position > position(lastId));

		// The ticks (from both instances) she missed are those the witness received in the same stretch of the log.
		long liveAgain = position(received.stream()
			.filter((event) -> event.data().equals("live again"))
			.findFirst()
			.orElseThrow()
			.lastEventId());
		await().atMost(WAIT).until(() -> ticks(witness).stream().anyMatch((position) -> position > liveAgain));
		List<Long> missedTicks = between(ticks(resumed), position(lastId), liveAgain);
		assertThat(missedTicks).isNotEmpty().isEqualTo(between(ticks(witness), position(lastId), liveAgain));
	}

	private static void assertQueuedForReplay(HttpResponse<String> response, int status) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
		assertThat(JsonPath.<Integer>read(response.body(), "$.live")).isZero();
		assertThat(JsonPath.<List<String>>read(response.body(), "$.queuedForReplay")).containsExactly("user-hop-erin");
	}

	/** The positions of the tick events a client received. */
	private static List<Long> ticks(SseClient client) {
		return client.events()
			.stream()
			.filter((event) -> event.type().equals("tick"))
			.map((event) -> position(event.lastEventId()))
			.toList();
	}

	private static List<Long> between(List<Long> positions, long after, long before) {
		return positions.stream().filter((position) -> position > after && position < before).toList();
	}

	private static String epoch(String id) {
		return id.substring(0, id.indexOf('-'));
	}

	private static long position(String id) {
		return Long.parseLong(id.substring(id.indexOf('-') + 1));
	}

	private SseClient connect(Instance instance, String pathAndQuery) {
		return connect(instance, pathAndQuery, Map.of());
	}

	private SseClient connect(Instance instance, String pathAndQuery, Map<String, String> headers) {
		SseClient client = SseClient.connect(instance.port(), pathAndQuery, headers);
		this.clients.add(client);
		return client;
	}

	private static List<String> connections(Instance instance) throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(instance.uri("/connections"))
			.header("Accept", "application/json")
			.build();
		HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		return JsonPath.read(response.body(), "$");
	}

	private static HttpResponse<String> post(Instance instance, String pathAndQuery, String body)
			throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(instance.uri(pathAndQuery))
			.header("Content-Type", "text/plain;charset=UTF-8")
			.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
			.build();
		return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
	}

	/**
	 * One instance of the sample, with the arguments the README gives (and a random port).
	 */
	private record Instance(ConfigurableApplicationContext context, int port) implements AutoCloseable {

		static Instance start(EmbeddedRedis redis) {
			ConfigurableApplicationContext context = SpringApplication.run(SampleApplication.class,
					"--server.port=0", "--server.address=127.0.0.1", "--sisk.sse.broker=redis",
					"--spring.data.redis.url=redis://127.0.0.1:" + redis.port());
			return new Instance(context, context.getEnvironment().getRequiredProperty("local.server.port", Integer.class));
		}

		URI uri(String pathAndQuery) {
			return URI.create("http://127.0.0.1:" + this.port + pathAndQuery);
		}

		@Override
		public void close() {
			this.context.close();
		}

	}

}
