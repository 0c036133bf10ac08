package io.github.sisksse.test;

import java.time.Duration;

import io.github.sisksse.CloseReason;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.assertj.MockMvcTester;

import static io.github.sisksse.test.SseAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.asyncDispatch;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.request;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * MockMvc support: the events a controller returning an {@code EventSource} wrote, read without a server.
 */
@SpringBootTest(classes = KitTestApplication.class, properties = "sisk.sse.close-event.name=close")
@AutoConfigureMockMvc
class MockMvcSseTests {

	@Autowired
	MockMvc mockMvc;

	@Autowired
	MockMvcTester mvc;

	@Autowired
	EventSourceRegistry registry;

	@Test
	void readsWhatTheControllerWroteAndTheEndOfTheStream() throws Exception {
		MvcResult result = this.mockMvc.perform(get("/hello")).andExpect(request().asyncStarted()).andReturn();
		MockMvcSse stream = MockMvcSse.of(result);
		assertThat(stream).receives("Hello, world!")
			.receivesEvent("close")
			.isClosedByServer()
			.hasStatus(200)
			.hasHeader("X-Accel-Buffering", "no");
		assertThat(stream.header("Content-Type")).startsWith("text/event-stream");
		this.mockMvc.perform(asyncDispatch(result)).andExpect(status().isOk());
	}

	@Test
	void keepsReadingAnOpenSourceUntilItIsClosed() throws Exception {
		MockMvcSse stream = MockMvcSse.of(this.mockMvc.perform(get("/open?id=mock-open")).andReturn());
		this.registry.send("mock-open", "first");
		assertThat(stream).receives("first").isOpen();
		this.registry.send("mock-open", "second");
		assertThat(stream).receivesExactly("first", "second").hasLastEventId(stream.events().get(1).lastEventId());
		EventSource source = this.registry.get("mock-open").orElseThrow();
		source.close();
		assertThat(stream).receivesEvent("close").isClosedByServer();
		assertThat(source.whenClosed()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(CloseReason.CLOSED_BY_SERVER);
	}

	@Test
	void readsAnAsyncExchangeOfMockMvcTester() {
		assertThat(MockMvcSse.of(this.mvc.get().uri("/hello").asyncExchange())).receivesExactly("Hello, world!", "")
			.isClosedByServer();
	}

	@Test
	void failureNamesTheRequestAndListsWhatTheControllerWrote() throws Exception {
		MockMvcSse stream = MockMvcSse.of(this.mockMvc.perform(get("/open?id=mock-quiet")).andReturn());
		this.registry.send("mock-quiet", "only this");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(stream).within(Duration.ofMillis(300)).receives("something else"))
			.withMessageContaining("Expected MockMvc stream /open?id=mock-quiet to receive events with data")
			.withMessageContaining("message \"only this\"")
			.withMessageContaining("still open");
		this.registry.get("mock-quiet").ifPresent(EventSource::close);
		await().atMost(Duration.ofSeconds(5)).until(stream::isEnded);
	}

	@Test
	void requestThatStartsNoStreamHasEndedAtOnce() throws Exception {
		MockMvcSse stream = MockMvcSse.of(this.mockMvc.perform(get("/raw")).andReturn());
		assertThat(stream.isEnded()).isTrue();
		assertThat(stream).hasRetry(1500).receivesEvent("echo", "none").receives("first\n");
		assertThat(stream.comments()).containsExactly("a comment");
	}

}
