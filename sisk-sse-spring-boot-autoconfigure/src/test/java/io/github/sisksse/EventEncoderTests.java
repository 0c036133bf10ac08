package io.github.sisksse;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.http.codec.ServerSentEvent;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.http.converter.StringHttpMessageConverter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link EventEncoder}: the exact bytes on the wire.
 */
class EventEncoderTests {

	private final EventEncoder encoder = new EventEncoder(
			() -> HttpMessageConverters.forServer().registerDefaults().build());

	@Test
	void textBecomesOneDataLinePerLineWithTheSeparatorSpace() {
		assertThat(wire(this.encoder.encode("one\r\ntwo\rthree\n four"))).isEqualTo(
				"data: one\ndata: two\ndata: three\ndata:  four\n\n");
	}

	@Test
	void emptyTextIsStillAMessage() {
		assertThat(wire(this.encoder.encode(""))).isEqualTo("data: \n\n");
	}

	@Test
	void fullEventWritesEveryFieldInOrder() {
		ServerSentEvent<String> event = ServerSentEvent.builder("x")
			.id("7")
			.event("update")
			.retry(Duration.ofMillis(1500))
			.comment("note")
			.build();
		assertThat(wire(this.encoder.encode(event)))
			.isEqualTo("id: 7\nevent: update\nretry: 1500\n: note\ndata: x\n\n");
	}

	@Test
	void objectsGoThroughTheMessageConverters() {
		assertThat(wire(this.encoder.encode(List.of(1, 2)))).isEqualTo("data: [1,2]\n\n");
	}

	@Test
	void refusesNulInAnId() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> this.encoder.encode(ServerSentEvent.builder("x").id("a\0b").build()))
			.withMessage("Event id must not contain NUL: \"a\\0b\"");
	}

	@Test
	void refusesLineBreaksInAComment() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> this.encoder.encode(ServerSentEvent.builder().comment("a\r\nb").build()))
			.withMessage("Comment must not contain CR or LF: \"a\\r\\nb\"");
	}

	@Test
	void refusesAnEventWithoutAnyField() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.encoder.encode(ServerSentEvent.builder().build()))
			.withMessageContaining("no id, name, retry, comment or data");
	}

	@Test
	void refusesAnObjectNoConverterCanWrite() {
		EventEncoder textOnly = new EventEncoder(() -> List.of(new StringHttpMessageConverter()));
		assertThatIllegalArgumentException().isThrownBy(() -> textOnly.encode(List.of(1)))
			.withMessageContaining("No HttpMessageConverter can write")
			.withMessageContaining("as application/json");
	}

	@Test
	void pingsInEveryFormat() {
		assertThat(wire(this.encoder.ping(PingPolicy.Format.COMMENT, "ping", "unused"))).isEqualTo(": ping\n\n");
		assertThat(wire(this.encoder.ping(PingPolicy.Format.DATA, "ping-message", "unused")))
			.isEqualTo("data: ping-message\n\n");
		assertThat(wire(this.encoder.ping(PingPolicy.Format.EVENT, "thump", "heartbeat")))
			.isEqualTo("event: heartbeat\ndata: thump\n\n");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> this.encoder.ping(PingPolicy.Format.EVENT, "thump", "heart\nbeat"));
	}

	private static String wire(byte[] bytes) {
		return new String(bytes, StandardCharsets.UTF_8);
	}

}
