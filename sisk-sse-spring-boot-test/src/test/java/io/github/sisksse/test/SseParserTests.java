package io.github.sisksse.test;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The parser against each rule of the HTML Standard's event stream interpretation.
 */
class SseParserTests {

	private final List<SseEvent> events = new ArrayList<>();

	private final List<String> comments = new ArrayList<>();

	private final List<Long> retries = new ArrayList<>();

	private final SseParser parser = new SseParser(new SseParser.Listener() {

		@Override
		public void onEvent(SseEvent event) {
			SseParserTests.this.events.add(event);
		}

		@Override
		public void onComment(String text) {
			SseParserTests.this.comments.add(text);
		}

		@Override
		public void onRetry(long millis) {
			SseParserTests.this.retries.add(millis);
		}

	});

	@Test
	void dispatchesAnEventAtABlankLineWithTheDefaultTypeMessage() {
		this.parser.feed("data: hello\n");
		assertThat(this.events).isEmpty();
		this.parser.feed("\n");
		assertThat(this.events).containsExactly(new SseEvent("message", "hello", ""));
	}

	@Test
	void takesTheTypeFromTheEventFieldForOneEventOnly() {
		this.parser.feed("event: price\ndata: 42\n\ndata: plain\n\n");
		assertThat(this.events).containsExactly(new SseEvent("price", "42", ""), new SseEvent("message", "plain", ""));
	}

	@Test
	void skipsOneLeadingByteOrderMarkOnly() {
		assertThat(SseParser.parse("\uFEFFdata: a\n\n")).containsExactly(new SseEvent("message", "a", ""));
		// A second one belongs to the first line's field name, which is then unknown.
		assertThat(SseParser.parse("\uFEFF\uFEFFdata: a\n\n")).isEmpty();
		// Not at the start of the stream, it is part of the value.
		assertThat(SseParser.parse("data: \uFEFFa\n\n")).containsExactly(new SseEvent("message", "\uFEFFa", ""));
	}

	@Test
	void endsLinesWithCrLfOrCrlf() {
		assertThat(SseParser.parse("data: lf\n\ndata: cr\r\rdata: crlf\r\n\r\ndata: mixed\r\n\n"))
			.extracting(SseEvent::data)
			.containsExactly("lf", "cr", "crlf", "mixed");
	}

	@Test
	void crlfSplitBetweenTwoFeedsIsOneLineEnd() {
		this.parser.feed("data: a\r");
		this.parser.feed("\ndata: b\r");
		this.parser.feed("\n\r");
		this.parser.feed("\n");
		assertThat(this.events).containsExactly(new SseEvent("message", "a\nb", ""));
	}

	@Test
	void crFollowedByCrIsTwoLineEnds() {
		// CR CR is a line end then a blank line: the event is dispatched.
		assertThat(SseParser.parse("data: a\r\r")).containsExactly(new SseEvent("message", "a", ""));
	}

	@Test
	void reportsCommentsWithoutTheirColonAndOneSpaceAndDispatchesNothingForThem() {
		this.parser.feed(": ping\n:no space\n:  two spaces\n:\n\n");
		assertThat(this.comments).containsExactly("ping", "no space", " two spaces", "");
		assertThat(this.events).isEmpty();
	}

	@Test
	void aFieldWithoutColonHasAnEmptyValue() {
		// "data" alone appends an empty line; two of them make one LF once the last LF is removed.
		assertThat(SseParser.parse("data\n\n")).containsExactly(new SseEvent("message", "", ""));
		assertThat(SseParser.parse("data\ndata\n\n")).containsExactly(new SseEvent("message", "\n", ""));
		assertThat(SseParser.parse("event\ndata: x\n\n")).containsExactly(new SseEvent("message", "x", ""));
	}

	@Test
	void stripsOnlyOneLeadingSpaceOfAValue() {
		assertThat(SseParser.parse("data:no space\n\ndata:  two\n\ndata:\ttab\n\n")).extracting(SseEvent::data)
			.containsExactly("no space", " two", "\ttab");
	}

	@Test
	void keepsColonsAfterTheFirstInTheValue() {
		assertThat(SseParser.parse("data: a: b:c\n\n")).extracting(SseEvent::data).containsExactly("a: b:c");
	}

	@Test
	void joinsDataLinesWithLfAndRemovesTheLastLf() {
		assertThat(SseParser.parse("data: one\ndata:\ndata: three\n\n")).extracting(SseEvent::data)
			.containsExactly("one\n\nthree");
	}

	@Test
	void blankLineWithoutDataDispatchesNothingAndForgetsTheType() {
		assertThat(SseParser.parse("event: lonely\n\ndata: x\n\n"))
			.containsExactly(new SseEvent("message", "x", ""));
	}

	@Test
	void keepsTheLastEventIdFromEventToEventUntilAnotherIdResetsIt() {
		assertThat(SseParser.parse("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")).containsExactly(
				new SseEvent("message", "a", "1"), new SseEvent("message", "b", "1"), new SseEvent("message", "c", ""));
	}

	@Test
	void updatesTheLastEventIdAtABlankLineEvenWithoutData() {
		this.parser.feed("id: 7\n");
		assertThat(this.parser.lastEventId()).isEmpty();
		this.parser.feed("\n");
		assertThat(this.parser.lastEventId()).isEqualTo("7");
		assertThat(this.events).isEmpty();
	}

	@Test
	void ignoresAnIdContainingNul() {
		assertThat(SseParser.parse("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n")).extracting(SseEvent::lastEventId)
			.containsExactly("1", "1");
	}

	@Test
	void takesRetryOnlyWhenItIsAsciiDigits() {
		this.parser.feed("retry: 1500\nretry: 2s\nretry: -1\nretry:\nretry: \u0661\u0662\nretry:  300\n"
				+ "retry: 99999999999999999999\nretry: 0\n\n");
		assertThat(this.retries).containsExactly(1500L, 0L);
		assertThat(this.events).isEmpty();
	}

	@Test
	void ignoresUnknownFieldsAndFieldNamesAreCaseSensitive() {
		assertThat(SseParser.parse("foo: bar\nData: x\nEVENT: y\ndata: z\n\n"))
			.containsExactly(new SseEvent("message", "z", ""));
	}

	@Test
	void discardsAnEventNotEndedByABlankLineAtTheEndOfTheStream() {
		assertThat(SseParser.parse("data: complete\n\ndata: incomplete\n")).extracting(SseEvent::data)
			.containsExactly("complete");
		assertThat(SseParser.parse("data: complete\n\ndata: no line end")).extracting(SseEvent::data)
			.containsExactly("complete");
	}

	@Test
	void refusesCharactersAfterTheEnd() {
		this.parser.end();
		assertThatIllegalStateException().isThrownBy(() -> this.parser.feed("data: late\n\n"));
	}

	@Test
	void parsesWhatTheLibraryWrites() {
		// A full event as EventEncoder writes it, then a ping comment and the close event.
		assertThat(SseParser.parse("retry: 3000\n\nid: 5\nevent: update\ndata: line 1\ndata:  line 2\n\n"
				+ ": ping\n\nevent: close\ndata: \n\n"))
			.containsExactly(new SseEvent("update", "line 1\n line 2", "5"), new SseEvent("close", "", "5"));
	}

}
