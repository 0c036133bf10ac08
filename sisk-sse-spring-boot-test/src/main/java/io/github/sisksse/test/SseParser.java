package io.github.sisksse.test;

import java.util.ArrayList;
import java.util.List;

import org.springframework.util.Assert;

/**
 * A parser of the {@code text/event-stream} format that follows the HTML Standard's "event stream interpretation"
 * to the letter, as browsers do: one leading byte order mark is skipped; lines end with CR, LF or CRLF (also when
 * a CRLF is split between two {@link #feed} calls); a line starting with a colon is a comment; a line without a
 * colon is a field name with an empty value; one space after the colon is dropped; {@code data} lines are joined
 * with LF; {@code event} sets the type, {@code message} when absent; an {@code id} containing NUL is ignored, and
 * the last id is kept from event to event; {@code retry} is taken only if it is ASCII digits; unknown fields are
 * ignored; a blank line dispatches the event, or only updates the last event id if there is no data; an event not
 * ended by a blank line when the stream ends is discarded.
 * <p>
 * Feed it characters (decode UTF-8 first) from one thread; {@link #lastEventId()} may be read from any.
 */
public final class SseParser {

	private static final char BYTE_ORDER_MARK = '\uFEFF';

	private final Listener listener;

	private final StringBuilder line = new StringBuilder();

	private final StringBuilder data = new StringBuilder();

	private String eventType = "";

	private String lastEventIdBuffer = "";

	private volatile String lastEventId = "";

	private boolean started;

	private boolean afterCr;

	private boolean ended;

	/**
	 * Create a parser that reports to the given listener.
	 * @param listener told of every event, comment and reconnection time, in stream order
	 */
	public SseParser(Listener listener) {
		this.listener = listener;
	}

	/**
	 * Parse a whole stream: the events it dispatches, in order. An event not ended by a blank line is discarded,
	 * as at the end of a stream.
	 * @param stream the decoded text of a {@code text/event-stream} response
	 * @return the dispatched events
	 */
	public static List<SseEvent> parse(String stream) {
		List<SseEvent> events = new ArrayList<>();
		SseParser parser = new SseParser(events::add);
		parser.feed(stream);
		parser.end();
		return events;
	}

	/**
	 * Parse the next characters of the stream, dispatching what they complete.
	 * @param chars the characters, continuing those fed before
	 */
	public void feed(CharSequence chars) {
		Assert.state(!this.ended, "The stream has ended");
		for (int i = 0; i < chars.length(); i++) {
			accept(chars.charAt(i));
		}
	}

	/**
	 * The stream ended: discard an event not yet dispatched and any unfinished line. Later feeds fail.
	 */
	public void end() {
		this.ended = true;
		this.line.setLength(0);
		this.data.setLength(0);
		this.eventType = "";
	}

	/**
	 * Return the id a browser would now send as {@code Last-Event-ID} when reconnecting: the last {@code id} field
	 * of the stream, as of the last blank line.
	 * @return the last event id, empty if none
	 */
	public String lastEventId() {
		return this.lastEventId;
	}

	private void accept(char c) {
		if (!this.started) {
			this.started = true;
			if (c == BYTE_ORDER_MARK) {
				return;
			}
		}
		if (c == '\n' && this.afterCr) {
			// The LF of a CRLF: the CR already ended the line.
			this.afterCr = false;
			return;
		}
		this.afterCr = (c == '\r');
		if (c != '\r' && c != '\n') {
			this.line.append(c);
			return;
		}
		String text = this.line.toString();
		this.line.setLength(0);
		processLine(text);
	}

	private void processLine(String text) {
		if (text.isEmpty()) {
			dispatch();
			return;
		}
		if (text.charAt(0) == ':') {
			this.listener.onComment(withoutLeadingSpace(text.substring(1)));
			return;
		}
		int colon = text.indexOf(':');
		String field = (colon < 0) ? text : text.substring(0, colon);
		String value = (colon < 0) ? "" : withoutLeadingSpace(text.substring(colon + 1));
		switch (field) {
			case "event" -> this.eventType = value;
			case "data" -> this.data.append(value).append('\n');
			case "id" -> {
				if (value.indexOf('\0') < 0) {
					this.lastEventIdBuffer = value;
				}
			}
			case "retry" -> {
				if (isAsciiDigits(value)) {
					try {
						this.listener.onRetry(Long.parseLong(value));
					}
					catch (NumberFormatException ex) {
						// Too large for any timer: ignored like any other invalid value.
					}
				}
			}
			default -> {
				// Unknown fields are ignored.
			}
		}
	}

	private void dispatch() {
		this.lastEventId = this.lastEventIdBuffer;
		if (this.data.isEmpty()) {
			this.eventType = "";
			return;
		}
		this.data.setLength(this.data.length() - 1);
		SseEvent event = new SseEvent(this.eventType.isEmpty() ? "message" : this.eventType, this.data.toString(),
				this.lastEventId);
		this.data.setLength(0);
		this.eventType = "";
		this.listener.onEvent(event);
	}

	private static String withoutLeadingSpace(String value) {
		return value.startsWith(" ") ? value.substring(1) : value;
	}

	private static boolean isAsciiDigits(String value) {
		return !value.isEmpty() && value.chars().allMatch((c) -> c >= '0' && c <= '9');
	}

	/**
	 * What a {@link SseParser} reports, on the thread that feeds it.
	 */
	@FunctionalInterface
	public interface Listener {

		/**
		 * An event was dispatched.
		 * @param event the event
		 */
		void onEvent(SseEvent event);

		/**
		 * A comment line was read (browsers ignore them; pings are often comments).
		 * @param text the text after the colon, without one leading space
		 */
		default void onComment(String text) {
		}

		/**
		 * A valid {@code retry} field was read.
		 * @param millis the reconnection time the server asks for, in milliseconds
		 */
		default void onRetry(long millis) {
		}

	}

}
