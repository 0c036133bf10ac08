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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * A real Server-Sent Events client for tests: connects with the JDK {@link HttpClient} and parses the
 * {@code text/event-stream} wire format as the HTML specification tells browsers to (CR, LF and CRLF line ends,
 * one optional space after the colon, multi-line data joined with LF, comments kept for inspection).
 */
public final class SseClient implements AutoCloseable {

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private final HttpResponse<InputStream> response;

	private final List<SseEvent> events = new CopyOnWriteArrayList<>();

	private final List<String> comments = new CopyOnWriteArrayList<>();

	private final CompletableFuture<Void> ended = new CompletableFuture<>();

	private volatile @Nullable Long retry;

	private volatile String lastEventId = "";

	private SseClient(HttpResponse<InputStream> response) {
		this.response = response;
		Thread reader = new Thread(this::read, "sse-client-" + response.uri().getPath());
		reader.setDaemon(true);
		reader.start();
	}

	/**
	 * Open a stream and return once the response headers arrived (at most 5 seconds).
	 */
	public static SseClient connect(int port, String pathAndQuery) {
		return connect(port, pathAndQuery, Map.of());
	}

	public static SseClient connect(int port, String pathAndQuery, Map<String, String> headers) {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
			.header("Accept", "text/event-stream");
		headers.forEach(request::header);
		try {
			return new SseClient(HTTP.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream())
				.get(5, TimeUnit.SECONDS));
		}
		catch (Exception ex) {
			throw new IllegalStateException("No response headers within 5 seconds from " + pathAndQuery, ex);
		}
	}

	public int status() {
		return this.response.statusCode();
	}

	public HttpHeaders headers() {
		return this.response.headers();
	}

	/**
	 * Return the events dispatched so far, in order.
	 */
	public List<SseEvent> events() {
		return new ArrayList<>(this.events);
	}

	public List<String> data() {
		return this.events.stream().map(SseEvent::data).toList();
	}

	/**
	 * Return the data of the unnamed events (type {@code message}) only, as {@code onmessage} would see them.
	 */
	public List<String> messages() {
		return this.events.stream().filter((event) -> event.type().equals("message")).map(SseEvent::data).toList();
	}

	public List<String> comments() {
		return new ArrayList<>(this.comments);
	}

	/**
	 * Return the id a browser would send as {@code Last-Event-ID} when reconnecting now.
	 */
	public String lastEventId() {
		return this.lastEventId;
	}

	public @Nullable Long retry() {
		return this.retry;
	}

	/**
	 * Whether the server ended the stream.
	 */
	public boolean isEnded() {
		return this.ended.isDone();
	}

	@Override
	public void close() {
		try {
			this.response.body().close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

	private void read() {
		try (Reader reader = new InputStreamReader(this.response.body(), StandardCharsets.UTF_8)) {
			StringBuilder line = new StringBuilder();
			StringBuilder data = new StringBuilder();
			String type = "";
			String lastId = "";
			boolean afterCr = false;
			for (int c = reader.read(); c != -1; c = reader.read()) {
				if (c == '\n' && afterCr) {
					afterCr = false;
					continue;
				}
				afterCr = (c == '\r');
				if (c != '\r' && c != '\n') {
					line.append((char) c);
					continue;
				}
				String text = line.toString();
				line.setLength(0);
				if (text.isEmpty()) {
					// As in browsers, the last event id is updated at every blank line, even without data.
					this.lastEventId = lastId;
					if (!data.isEmpty()) {
						data.setLength(data.length() - 1);
						this.events.add(new SseEvent(type.isEmpty() ? "message" : type, data.toString(), lastId));
					}
					data.setLength(0);
					type = "";
					continue;
				}
				if (text.charAt(0) == ':') {
					this.comments.add(text.substring(text.startsWith(": ") ? 2 : 1));
					continue;
				}
				int colon = text.indexOf(':');
				String field = (colon < 0) ? text : text.substring(0, colon);
				String value = (colon < 0) ? "" : text.substring(colon + 1);
				if (value.startsWith(" ")) {
					value = value.substring(1);
				}
				switch (field) {
					case "data" -> data.append(value).append('\n');
					case "event" -> type = value;
					case "id" -> lastId = value.contains("\0") ? lastId : value;
					case "retry" -> this.retry = value.chars().allMatch(Character::isDigit) ? Long.valueOf(value) : this.retry;
					default -> { }
				}
			}
		}
		catch (IOException ex) {
			// the connection broke or was closed by this client
		}
		finally {
			this.ended.complete(null);
		}
	}

}
