package io.github.sisksse;

import java.lang.reflect.Method;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.springframework.boot.web.server.WebServer;

/**
 * What a running Tomcat or Jetty does with the sockets it accepts, which the Servlet API does not show. By
 * reflection: each surefire execution has only one of the two containers on the classpath, and this module
 * compiles against neither's internals (Jetty is not on its compile classpath at all).
 */
final class ServerSockets {

	private ServerSockets() {
	}

	/**
	 * The send buffer each connector of the server is configured to give the connections it accepts, in bytes
	 * (0 or less: none, the kernel's own).
	 */
	static List<Integer> configuredSendBuffers(WebServer server) throws ReflectiveOperationException {
		List<Integer> sizes = new ArrayList<>();
		for (Object connector : connectors(server)) {
			if (isTomcat(server)) {
				Object value = call(connector, "getProperty", "socket.txBufSize");
				sizes.add((value != null) ? Integer.parseInt(value.toString()) : -1);
			}
			else if (connector.getClass().getName().equals("org.eclipse.jetty.server.ServerConnector")) {
				sizes.add((Integer) call(connector, "getAcceptedSendBufferSize"));
			}
		}
		return sizes;
	}

	/**
	 * SO_SNDBUF of every connection the server holds open now, as the JDK reports it.
	 */
	static List<Integer> sendBuffersOfOpenConnections(WebServer server) throws Exception {
		List<Integer> sizes = new ArrayList<>();
		for (Object connector : connectors(server)) {
			Collection<?> connections;
			if (isTomcat(server)) {
				Object endpoint = call(call(connector, "getProtocolHandler"), "getEndpoint");
				connections = (Collection<?>) call(endpoint, "getConnections");
			}
			else {
				connections = (Collection<?>) call(connector, "getConnectedEndPoints");
			}
			for (Object connection : connections) {
				// Tomcat: SocketWrapperBase -> NioChannel -> SocketChannel; Jetty: SocketChannelEndPoint -> SocketChannel.
				Object channel = isTomcat(server) ? call(call(connection, "getSocket"), "getIOChannel")
						: call(connection, "getChannel");
				sizes.add(((NetworkChannel) channel).getOption(StandardSocketOptions.SO_SNDBUF));
			}
		}
		return sizes;
	}

	private static boolean isTomcat(WebServer server) {
		return server.getClass().getName().startsWith("org.springframework.boot.tomcat.");
	}

	private static Object[] connectors(WebServer server) throws ReflectiveOperationException {
		if (isTomcat(server)) {
			return (Object[]) call(call(call(server, "getTomcat"), "getService"), "findConnectors");
		}
		return (Object[]) call(call(server, "getServer"), "getConnectors");
	}

	/**
	 * Call a method by name, also a protected or inherited one (such as Tomcat's AbstractProtocol.getEndpoint).
	 */
	private static Object call(Object target, String name, Object... args) throws ReflectiveOperationException {
		for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
			for (Method method : type.getDeclaredMethods()) {
				if (method.getName().equals(name) && method.getParameterCount() == args.length) {
					method.setAccessible(true);
					return method.invoke(target, args);
				}
			}
		}
		throw new NoSuchMethodException(target.getClass().getName() + "." + name);
	}

}
