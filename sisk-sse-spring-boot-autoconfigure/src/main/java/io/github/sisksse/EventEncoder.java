package io.github.sisksse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpOutputMessage;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.http.converter.HttpMessageConverter;

/**
 * Turns events into the bytes of the {@code text/event-stream} wire format, refusing anything that would break
 * the framing. Objects are serialised to JSON by the configured {@link HttpMessageConverter message converters},
 * looked up lazily at the first object sent. Thread-safe: stateless but for the lazily cached converter list.
 */
final class EventEncoder {

	private static final Pattern LINE_BREAK = Pattern.compile("\r\n|\r|\n");

	private final Supplier<? extends Iterable<HttpMessageConverter<?>>> convertersSupplier;

	private volatile @Nullable List<HttpMessageConverter<?>> converters;

	EventEncoder(Supplier<? extends Iterable<HttpMessageConverter<?>>> convertersSupplier) {
		this.convertersSupplier = convertersSupplier;
	}

	/**
	 * Encode a message with data only, or the given {@link ServerSentEvent}.
	 */
	byte[] encode(Object data) {
		if (data instanceof ServerSentEvent<?> event) {
			return encode(event);
		}
		StringBuilder out = new StringBuilder();
		appendData(out, data);
		return toBytes(out.append('\n'));
	}

	byte[] encode(ServerSentEvent<?> event) {
		StringBuilder out = new StringBuilder();
		String id = event.id();
		if (id != null) {
			checkNoLineBreak("Event id", id);
			if (id.indexOf('\0') >= 0) {
				throw new IllegalArgumentException("Event id must not contain NUL: " + quote(id));
			}
			out.append("id: ").append(id).append('\n');
		}
		String name = event.event();
		if (name != null) {
			checkNoLineBreak("Event name", name);
			out.append("event: ").append(name).append('\n');
		}
		Duration retry = event.retry();
		if (retry != null) {
			out.append("retry: ").append(retry.toMillis()).append('\n');
		}
		String comment = event.comment();
		if (comment != null) {
			checkNoLineBreak("Comment", comment);
			out.append(": ").append(comment).append('\n');
		}
		Object data = event.data();
		if (data != null) {
			appendData(out, data);
		}
		if (out.isEmpty()) {
			throw new IllegalArgumentException("Event has no id, name, retry, comment or data");
		}
		return toBytes(out.append('\n'));
	}

	static byte[] comment(String text) {
		checkNoLineBreak("Comment", text);
		return toBytes(new StringBuilder(": ").append(text).append("\n\n"));
	}

	static byte[] retry(Duration retry) {
		return toBytes(new StringBuilder("retry: ").append(retry.toMillis()).append("\n\n"));
	}

	/**
	 * Encode a ping in the given format.
	 */
	byte[] ping(PingPolicy.Format format, String message, String eventName) {
		return switch (format) {
			case COMMENT -> comment(message);
			case DATA -> encode(message);
			case EVENT -> encode(ServerSentEvent.builder(message).event(eventName).build());
		};
	}

	static void checkNoLineBreak(String what, String value) {
		if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
			throw new IllegalArgumentException(what + " must not contain CR or LF: " + quote(value));
		}
	}

	private void appendData(StringBuilder out, Object data) {
		String text = (data instanceof CharSequence chars) ? chars.toString() : serialize(data);
		for (String line : LINE_BREAK.split(text, -1)) {
			// Always "data: ": a reader strips one space after the colon, so a line's own leading space survives.
			out.append("data: ").append(line).append('\n');
		}
	}

	private String serialize(Object data) {
		for (HttpMessageConverter<?> converter : converters()) {
			if (converter.canWrite(data.getClass(), MediaType.APPLICATION_JSON)) {
				BufferedMessage message = new BufferedMessage();
				try {
					write(converter, data, message);
				}
				catch (IOException ex) {
					throw new IllegalArgumentException("Failed to serialise " + data.getClass().getName(), ex);
				}
				return message.body.toString(StandardCharsets.UTF_8);
			}
		}
		throw new IllegalArgumentException(
				"No HttpMessageConverter can write " + data.getClass().getName() + " as application/json");
	}

	@SuppressWarnings("unchecked")
	private static <T> void write(HttpMessageConverter<T> converter, Object data, HttpOutputMessage message)
			throws IOException {
		converter.write((T) data, MediaType.APPLICATION_JSON, message);
	}

	private List<HttpMessageConverter<?>> converters() {
		List<HttpMessageConverter<?>> result = this.converters;
		if (result == null) {
			result = new ArrayList<>();
			this.convertersSupplier.get().forEach(result::add);
			this.converters = result;
		}
		return result;
	}

	private static byte[] toBytes(StringBuilder text) {
		return text.toString().getBytes(StandardCharsets.UTF_8);
	}

	private static String quote(String value) {
		return '"' + value.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0") + '"';
	}

	/**
	 * A message that converters write into memory.
	 */
	private static final class BufferedMessage implements HttpOutputMessage {

		private final HttpHeaders headers = new HttpHeaders();

		private final ByteArrayOutputStream body = new ByteArrayOutputStream(256);

		@Override
		public OutputStream getBody() {
			return this.body;
		}

		@Override
		public HttpHeaders getHeaders() {
			return this.headers;
		}

	}

}
