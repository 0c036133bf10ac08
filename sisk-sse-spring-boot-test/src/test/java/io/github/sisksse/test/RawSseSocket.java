package io.github.sisksse.test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A client on a plain socket, for what {@link SseClient} cannot do: vanish without a goodbye (the socket is
 * reset) or stop reading while the server keeps writing.
 */
public final class RawSseSocket implements AutoCloseable {

	private final Socket socket;

	private final String head;

	private RawSseSocket(Socket socket, String head) {
		this.socket = socket;
		this.head = head;
	}

	/**
	 * Send a GET request and read the response head (status line and headers).
	 */
	public static RawSseSocket open(int port, String pathAndQuery, int receiveBuffer) throws IOException {
		Socket socket = new Socket();
		if (receiveBuffer > 0) {
			socket.setReceiveBufferSize(receiveBuffer);
		}
		socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
		socket.setSoTimeout(5000);
		socket.getOutputStream()
			.write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
					+ "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
		InputStream in = socket.getInputStream();
		ByteArrayOutputStream head = new ByteArrayOutputStream();
		int matched = 0;
		while (matched < 4) {
			int b = in.read();
			if (b == -1) {
				break;
			}
			head.write(b);
			matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
		}
		return new RawSseSocket(socket, head.toString(StandardCharsets.US_ASCII));
	}

	public static RawSseSocket open(int port, String pathAndQuery) throws IOException {
		return open(port, pathAndQuery, 0);
	}

	/**
	 * Read until the server closes the connection (at most 5 seconds between bytes).
	 */
	public String readToEnd() throws IOException {
		return new String(this.socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
	}

	public String head() {
		return this.head;
	}

	/**
	 * Disappear as a crashed client or a dropped network would: reset the connection, say nothing.
	 */
	public void vanish() throws IOException {
		this.socket.setSoLinger(true, 0);
		this.socket.close();
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

}
