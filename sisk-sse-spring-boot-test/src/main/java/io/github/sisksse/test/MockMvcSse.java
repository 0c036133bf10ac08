package io.github.sisksse.test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import jakarta.servlet.AsyncContext;
import org.jspecify.annotations.Nullable;

import org.springframework.mock.web.MockAsyncContext;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

/**
 * The events a controller wrote under MockMvc, read as a {@link SseStream}: a controller that returns an
 * {@code EventSource} (or its emitter) starts asynchronous processing, and the registry keeps writing to the mock
 * response from its own threads; this parses that response's content with the same {@link SseParser} as
 * {@link SseClient}, each time it is read. The stream has ended once the source completed the response (the
 * asynchronous result is set and MockMvc would dispatch), or at once if the request did not start a stream.
 * <pre class="code">
 * MvcResult result = mockMvc.perform(get("/events?user=alice"))
 *     .andExpect(request().asyncStarted())
 *     .andReturn();
 * SseAssertions.assertThat(MockMvcSse.of(result)).receives("hello");
 * registry.get("user-alice").ifPresent(EventSource::close);
 * SseAssertions.assertThat(MockMvcSse.of(result)).isClosedByServer();
 * mockMvc.perform(asyncDispatch(result)).andExpect(status().isOk());   // to finish the request, if wanted
 * </pre>
 * With {@code MockMvcTester}, use {@code asyncExchange()}: {@code MockMvcSse.of(mvc.get().uri("/events").asyncExchange())}.
 * There is no connection to drop: to end a stream as a client would, close its {@code EventSource}.
 * <p>
 * Thread-safe: every method reads the current content.
 */
public final class MockMvcSse implements SseStream {

	private final MvcResult result;

	private MockMvcSse(MvcResult result) {
		this.result = result;
	}

	/**
	 * Read the events of a request performed with {@code MockMvc}.
	 * @param result the result of {@code perform(...).andReturn()}
	 * @return the stream
	 */
	public static MockMvcSse of(MvcResult result) {
		return new MockMvcSse(result);
	}

	/**
	 * Read the events of a request performed with {@code MockMvcTester}, with {@code asyncExchange()} so that the
	 * exchange does not wait for the end of the stream.
	 * @param result the result of {@code asyncExchange()}
	 * @return the stream
	 */
	public static MockMvcSse of(MvcTestResult result) {
		return new MockMvcSse(result.getMvcResult());
	}

	/**
	 * Return the MockMvc result, e.g. for {@code asyncDispatch(result)} once the stream ended.
	 * @return the result this stream reads
	 */
	public MvcResult result() {
		return this.result;
	}

	@Override
	public int status() {
		return response().getStatus();
	}

	@Override
	public @Nullable String header(String name) {
		return response().getHeader(name);
	}

	@Override
	public List<SseEvent> events() {
		return received().events();
	}

	@Override
	public List<String> comments() {
		return received().comments();
	}

	@Override
	public String lastEventId() {
		return received().lastEventId();
	}

	@Override
	public @Nullable Long retry() {
		return received().retry();
	}

	@Override
	public boolean isEnded() {
		MockHttpServletRequest request = this.result.getRequest();
		AsyncContext async = request.getAsyncContext();
		if (async == null) {
			return true;
		}
		if (async instanceof MockAsyncContext mock) {
			// MockAsyncContext dispatches under its own monitor: reading under it also sees every byte written
			// before the source completed the response.
			synchronized (mock) {
				return mock.getDispatchedPath() != null;
			}
		}
		return !request.isAsyncStarted();
	}

	@Override
	public String toString() {
		MockHttpServletRequest request = this.result.getRequest();
		String query = request.getQueryString();
		return "MockMvc stream " + request.getRequestURI() + ((query != null) ? "?" + query : "");
	}

	private MockHttpServletResponse response() {
		return this.result.getResponse();
	}

	private ReceivedEvents received() {
		boolean ended = isEnded();
		// The content, parsed afresh: the registry's writers append to it meanwhile.
		String content = new String(response().getContentAsByteArray(), StandardCharsets.UTF_8);
		return ReceivedEvents.of(content, ended);
	}

}
