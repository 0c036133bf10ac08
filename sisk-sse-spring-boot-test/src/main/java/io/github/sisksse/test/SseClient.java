package io.github.sisksse.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.jspecify.annotations.Nullable;

/**
 * A Server-Sent Events client for tests, reading a real connection the way a browser's {@code EventSource} does:
 * it sends {@code GET} with {@code Accept: text/event-stream} over the JDK {@link HttpClient} (HTTP/1.1) and parses
 * the body with the strict {@link SseParser} on a thread of its own, so that events accumulate while the test
 * runs. Unlike a browser it does not reconnect by itself: {@link #reconnect()} does, with {@code Last-Event-ID}.
 * <pre class="code">
 * try (SseClient client = SseClient.connect(port, "/events?user=alice")) {
 *     SseAssertions.assertThat(client).receives("hello");
 * }
 * </pre>
 * The body of any response is parsed, so a refused stream ({@code 409}, {@code 503}) simply has no events: check
 * {@link #status()}. Thread-safe; close it to release the connection.
 */
public final class SseClient implements SseStream, AutoCloseable {

	/**
	 * How long {@code connect} waits for the response headers.
	 */
	public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(CONNECT_TIMEOUT)
		.build();

	private final URI uri;

	private final Map<String, String> requestHeaders;

	private final HttpResponse<InputStream> response;

	private final ReceivedEvents received = new ReceivedEvents();

	private volatile boolean ended;

	private volatile boolean closed;

	private SseClient(URI uri, Map<String, String> requestHeaders, HttpResponse<InputStream> response) {
		this.uri = uri;
		this.requestHeaders = requestHeaders;
		this.response = response;
		Thread reader = new Thread(this::read, "sse-client-" + uri.getPath());
		reader.setDaemon(true);
		reader.start();
	}

	/**
	 * Open a stream on a server of this machine ({@code http://127.0.0.1:port}), as with a random port in a
	 * {@code @SpringBootTest}, and return once the response headers arrived.
	 * @param port the server's port
	 * @param pathAndQuery the path, with its query if any, e.g. {@code /events?user=alice}
	 * @return the connected client
	 * @throws IllegalStateException if no response headers arrived within {@link #CONNECT_TIMEOUT}
	 */
	public static SseClient connect(int port, String pathAndQuery) {
		return connect(port, pathAndQuery, Map.of());
	}

	/**
	 * Open a stream on a server of this machine with extra request headers (e.g. {@code Last-Event-ID},
	 * {@code Authorization}), and return once the response headers arrived.
	 * @param port the server's port
	 * @param pathAndQuery the path, with its query if any
	 * @param headers the request headers to add
	 * @return the connected client
	 * @throws IllegalStateException if no response headers arrived within {@link #CONNECT_TIMEOUT}
	 */
	public static SseClient connect(int port, String pathAndQuery, Map<String, String> headers) {
		return connect(URI.create("http://127.0.0.1:" + port + pathAndQuery), headers);
	}

	/**
	 * Open a stream at the given URI with extra request headers, and return once the response headers arrived.
	 * @param uri the stream's {@code http} URI
	 * @param headers the request headers to add
	 * @return the connected client
	 * @throws IllegalStateException if no response headers arrived within {@link #CONNECT_TIMEOUT}
	 */
	public static SseClient connect(URI uri, Map<String, String> headers) {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
		headers.forEach(request::header);
		try {
			HttpResponse<InputStream> response = HTTP
				.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream())
				.get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
			return new SseClient(uri, Map.copyOf(headers), response);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while connecting to " + uri, ex);
		}
		catch (ExecutionException | TimeoutException ex) {
			throw new IllegalStateException("No response headers within " + CONNECT_TIMEOUT + " from " + uri, ex);
		}
	}

	/**
	 * Close this connection and open a new one to the same URI with the same headers, sending the last event id
	 * in {@code Last-Event-ID} if there is one, as a browser does when it reconnects.
	 * @return the new client
	 */
	public SseClient reconnect() {
		close();
		Map<String, String> headers = new LinkedHashMap<>(this.requestHeaders);
		headers.keySet().removeIf("Last-Event-ID"::equalsIgnoreCase);
		String lastEventId = lastEventId();
		if (!lastEventId.isEmpty()) {
			headers.put("Last-Event-ID", lastEventId);
		}
		return connect(this.uri, headers);
	}

	/**
	 * Return the URI this client connected to.
	 * @return the stream's URI
	 */
	public URI uri() {
		return this.uri;
	}

	@Override
	public int status() {
		return this.response.statusCode();
	}

	/**
	 * Return all response headers.
	 * @return the headers
	 */
	public HttpHeaders headers() {
		return this.response.headers();
	}

	@Override
	public @Nullable String header(String name) {
		return this.response.headers().firstValue(name).orElse(null);
	}

	@Override
	public List<SseEvent> events() {
		return this.received.events();
	}

	@Override
	public List<String> comments() {
		return this.received.comments();
	}

	@Override
	public String lastEventId() {
		return this.received.lastEventId();
	}

	@Override
	public @Nullable Long retry() {
		return this.received.retry();
	}

	@Override
	public boolean isEnded() {
		return this.ended;
	}

	/**
	 * Return whether {@link #close()} was called.
	 * @return whether this side closed the connection
	 */
	public boolean isClosed() {
		return this.closed;
	}

	/**
	 * Close the connection, as a browser tab that goes away does: the server notices at its next write.
	 */
	@Override
	public void close() {
		this.closed = true;
		try {
			this.response.body().close();
		}
		catch (IOException ex) {
			// Closing anyway.
		}
	}

	@Override
	public String toString() {
		return "SseClient " + this.uri;
	}

	private void read() {
		SseParser parser = this.received.parser();
		char[] buffer = new char[8192];
		// Malformed UTF-8 is replaced with U+FFFD, as browsers decode event streams.
		try (Reader reader = new InputStreamReader(this.response.body(), StandardCharsets.UTF_8)) {
			for (int n = reader.read(buffer); n != -1; n = reader.read(buffer)) {
				parser.feed(CharBuffer.wrap(buffer, 0, n));
			}
			parser.end();
		}
		catch (IOException ex) {
			// The connection broke, or this client closed it.
			parser.end();
		}
		this.ended = !this.closed;
	}

}
