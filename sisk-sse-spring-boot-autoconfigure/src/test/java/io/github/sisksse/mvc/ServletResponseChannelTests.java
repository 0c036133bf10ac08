package io.github.sisksse.mvc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.github.sisksse.EventSourceConnection;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.http.HttpHeaders;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.context.request.async.DeferredResult;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * How the channel starts writing: on the container's callback, or at once on a stream without non-blocking I/O.
 */
class ServletResponseChannelTests {

	private final RecordingConnection connection = new RecordingConnection();

	@Test
	void streamWithoutNonBlockingIoIsWrittenAtOnceWithPlainWrites() throws IOException {
		MockHttpServletResponse response = new MockHttpServletResponse();
		ServletResponseChannel channel = channel(response.getOutputStream());
		channel.listen();
		assertThat(this.connection.calls).containsExactly("writable");
		assertThat(channel.write("data: a\n\n".getBytes(StandardCharsets.UTF_8))).isTrue();
		assertThat(response.getContentAsString()).isEqualTo("data: a\n\n");
	}

	@Test
	void streamWithNonBlockingIoWaitsForTheContainersCallback() throws IOException {
		ListeningStream out = new ListeningStream(null);
		ServletResponseChannel channel = channel(out);
		channel.listen();
		assertThat(out.listener).isSameAs(channel);
		assertThat(this.connection.calls).isEmpty();
		channel.onWritePossible();
		assertThat(this.connection.calls).containsExactly("writable");
	}

	@Test
	void containerThatRefusesTheListenerFailsInsteadOfWritingBlocking() {
		ServletResponseChannel channel = channel(new ListeningStream(new IllegalStateException("not async")));
		assertThatIllegalStateException().isThrownBy(channel::listen).withMessage("not async");
		assertThat(this.connection.calls).isEmpty();
	}

	private ServletResponseChannel channel(ServletOutputStream out) {
		return new ServletResponseChannel(this.connection, new DeferredResult<>(-1L), out);
	}

	/**
	 * A stream with non-blocking I/O that keeps its listener, or refuses it with the given failure.
	 */
	private static final class ListeningStream extends ServletOutputStream {

		private final @Nullable RuntimeException refusal;

		@Nullable WriteListener listener;

		ListeningStream(@Nullable RuntimeException refusal) {
			this.refusal = refusal;
		}

		@Override
		public boolean isReady() {
			return true;
		}

		@Override
		public void setWriteListener(WriteListener writeListener) {
			if (this.refusal != null) {
				throw this.refusal;
			}
			this.listener = writeListener;
		}

		@Override
		public void write(int b) {
		}

	}

	private static final class RecordingConnection implements EventSourceConnection {

		final List<String> calls = new ArrayList<>();

		@Override
		public void prepareResponse(HttpHeaders headers) {
		}

		@Override
		public boolean isFinished() {
			return false;
		}

		@Override
		public void bind(Sink sink) {
		}

		@Override
		public void writable() {
			this.calls.add("writable");
		}

		@Override
		public void failed(Throwable failure) {
			this.calls.add("failed");
		}

		@Override
		public void completed() {
			this.calls.add("completed");
		}

	}

}
