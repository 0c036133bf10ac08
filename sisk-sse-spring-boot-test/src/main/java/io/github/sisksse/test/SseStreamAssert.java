package io.github.sisksse.test;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;

import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ListAssert;

/**
 * Assertions on a {@link SseStream}, obtained from {@link SseAssertions#assertThat(SseStream)}. Those named
 * {@code receives...} and {@link #isClosedByServer()} wait for what they expect, at most for the time set with
 * {@link #within(Duration)} ({@value #DEFAULT_TIMEOUT_SECONDS} seconds unless set), and stop waiting as soon as
 * the server ended the stream; the others check the stream as it is. A failure lists everything received.
 * <pre class="code">
 * assertThat(client).within(Duration.ofSeconds(2))
 *     .receives("a", "b")
 *     .receivesEvent("close")
 *     .isClosedByServer();
 * </pre>
 * Not thread-safe, like any AssertJ assertion; the stream it reads may be written meanwhile.
 */
public class SseStreamAssert extends AbstractAssert<SseStreamAssert, SseStream> {

	/**
	 * How long the waiting assertions wait unless {@link #within(Duration)} says otherwise, in seconds.
	 */
	public static final long DEFAULT_TIMEOUT_SECONDS = 10;

	private static final long POLL_MILLIS = 10;

	private Duration timeout = Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS);

	/**
	 * Create assertions on the given stream.
	 * @param actual the stream to check
	 */
	public SseStreamAssert(SseStream actual) {
		super(actual, SseStreamAssert.class);
	}

	/**
	 * Set how long the following waiting assertions of this chain wait.
	 * @param timeout a positive time limit
	 * @return this
	 */
	public SseStreamAssert within(Duration timeout) {
		if (timeout.isNegative() || timeout.isZero()) {
			throw new IllegalArgumentException("The time limit must be positive: " + timeout);
		}
		this.timeout = timeout;
		return this;
	}

	/**
	 * Wait until events with these data arrived in this order, whatever their type; other events may come
	 * before, between and after them.
	 * @param data the expected data, in order
	 * @return this
	 */
	public SseStreamAssert receives(String... data) {
		List<String> expected = List.of(data);
		return waitFor((stream) -> isSubsequence(expected, stream.data()),
				"to receive events with data " + quoted(expected) + " in this order");
	}

	/**
	 * Wait until as many events as given arrived, and check that their data are exactly these, in this order,
	 * with no other event before or between them.
	 * @param data the expected data of all the events, in order
	 * @return this
	 */
	public SseStreamAssert receivesExactly(String... data) {
		List<String> expected = List.of(data);
		String what = "to receive exactly the events with data " + quoted(expected);
		waitFor((stream) -> stream.events().size() >= expected.size(), what);
		if (!this.actual.data().equals(expected)) {
			failExpecting(what + ", but it received " + describe(this.actual));
		}
		return this;
	}

	/**
	 * Wait until an event of this type arrives (the {@code event:} field; {@code message} for unnamed events).
	 * @param type the event type
	 * @return this
	 */
	public SseStreamAssert receivesEvent(String type) {
		return waitFor((stream) -> stream.events().stream().anyMatch((event) -> event.type().equals(type)),
				"to receive an event of type \"" + type + "\"");
	}

	/**
	 * Wait until an event of this type with these data arrives.
	 * @param type the event type
	 * @param data the event's data
	 * @return this
	 */
	public SseStreamAssert receivesEvent(String type, String data) {
		return waitFor(
				(stream) -> stream.events()
					.stream()
					.anyMatch((event) -> event.type().equals(type) && event.data().equals(data)),
				"to receive an event of type \"" + type + "\" with data \"" + data + "\"");
	}

	/**
	 * Wait until this comment arrives (pings are comments unless configured otherwise).
	 * @param text the comment, without its colon and one leading space
	 * @return this
	 */
	public SseStreamAssert receivesComment(String text) {
		return waitFor((stream) -> stream.comments().contains(text), "to receive the comment \"" + text + "\"");
	}

	/**
	 * Wait until the stream's last event id, which a browser sends as {@code Last-Event-ID} when it reconnects,
	 * is this one.
	 * @param id the expected last event id
	 * @return this
	 */
	public SseStreamAssert hasLastEventId(String id) {
		return waitFor((stream) -> stream.lastEventId().equals(id), "to have the last event id \"" + id + "\"");
	}

	/**
	 * Wait until the server set this reconnection time with {@code retry:}.
	 * @param millis the expected reconnection time, in milliseconds
	 * @return this
	 */
	public SseStreamAssert hasRetry(long millis) {
		return waitFor((stream) -> Objects.equals(stream.retry(), millis), "to have the retry " + millis + " ms");
	}

	/**
	 * Wait until the server ends the stream (completes the response, or drops the connection).
	 * @return this
	 */
	public SseStreamAssert isClosedByServer() {
		return waitFor(SseStream::isEnded, "to be closed by the server");
	}

	/**
	 * Check that the server has not ended the stream, now.
	 * @return this
	 */
	public SseStreamAssert isOpen() {
		isNotNull();
		if (this.actual.isEnded()) {
			failExpecting("to be open, but the server ended it after " + describe(this.actual));
		}
		return this;
	}

	/**
	 * Check the response status.
	 * @param status the expected HTTP status code
	 * @return this
	 */
	public SseStreamAssert hasStatus(int status) {
		isNotNull();
		if (this.actual.status() != status) {
			failExpecting("to have the status " + status + ", but it has " + this.actual.status());
		}
		return this;
	}

	/**
	 * Check the first value of a response header.
	 * @param name the header name, in any case
	 * @param value the expected value
	 * @return this
	 */
	public SseStreamAssert hasHeader(String name, String value) {
		isNotNull();
		String actualValue = this.actual.header(name);
		if (!value.equals(actualValue)) {
			failExpecting("to have the header " + name + ": \"" + value + "\", but "
					+ ((actualValue != null) ? "it is \"" + actualValue + "\"" : "it has none"));
		}
		return this;
	}

	/**
	 * Continue with assertions on the events received so far.
	 * @return assertions on a snapshot of the events
	 */
	public ListAssert<SseEvent> events() {
		isNotNull();
		return Assertions.assertThat(this.actual.events()).as(this.info.description());
	}

	private SseStreamAssert waitFor(Predicate<SseStream> condition, String what) {
		isNotNull();
		long deadline = System.nanoTime() + this.timeout.toNanos();
		while (true) {
			// Read before the condition: once ended, everything received is visible and nothing more comes.
			boolean ended = this.actual.isEnded();
			if (condition.test(this.actual)) {
				return this;
			}
			if (ended || System.nanoTime() - deadline >= 0) {
				break;
			}
			try {
				Thread.sleep(POLL_MILLIS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		failExpecting(what + " within " + format(this.timeout) + ", but it received " + describe(this.actual));
		return this;
	}

	private void failExpecting(String expectation) {
		failWithMessage("%s", "Expected " + this.actual + " " + expectation);
	}

	private static String describe(SseStream stream) {
		List<SseEvent> events = stream.events();
		StringBuilder description = new StringBuilder();
		description.append(events.size()).append((events.size() == 1) ? " event" : " events");
		for (SseEvent event : events) {
			description.append("\n  ").append(event);
		}
		List<String> comments = stream.comments();
		if (!comments.isEmpty()) {
			description.append("\nand ").append(comments.size()).append((comments.size() == 1) ? " comment " : " comments ")
				.append(quoted(comments));
		}
		description.append("\n(status ").append(stream.status());
		description.append(stream.isEnded() ? ", ended by the server)" : ", still open)");
		return description.toString();
	}

	private static boolean isSubsequence(List<String> expected, List<String> actual) {
		int next = 0;
		for (int i = 0; i < actual.size() && next < expected.size(); i++) {
			if (actual.get(i).equals(expected.get(next))) {
				next++;
			}
		}
		return next == expected.size();
	}

	private static String quoted(List<String> values) {
		return Arrays.toString(values.stream().map((value) -> "\"" + value.replace("\n", "\\n") + "\"").toArray());
	}

	private static String format(Duration duration) {
		return duration.toString().substring(2).toLowerCase(Locale.ROOT);
	}

}
