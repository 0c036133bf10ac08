package io.github.sisksse.test;

/**
 * Entry point of the assertions on Server-Sent Events streams, in AssertJ's style:
 * <pre class="code">
 * import static io.github.sisksse.test.SseAssertions.assertThat;
 *
 * assertThat(client).receives("a", "b").receivesEvent("close").isClosedByServer();
 * </pre>
 */
public final class SseAssertions {

	private SseAssertions() {
	}

	/**
	 * Start assertions on a stream.
	 * @param stream an {@link SseClient} or a {@link MockMvcSse} stream
	 * @return the assertions, waiting {@value SseStreamAssert#DEFAULT_TIMEOUT_SECONDS} seconds unless
	 * {@link SseStreamAssert#within(java.time.Duration) within} says otherwise
	 */
	public static SseStreamAssert assertThat(SseStream stream) {
		return new SseStreamAssert(stream);
	}

}
