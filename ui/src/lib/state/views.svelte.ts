/** Saved views: the built-in ones first, then the user's. */
import * as api from "../api";
import type { SavedView } from "../app-types";

export class ViewsState {
  list = $state.raw<SavedView[]>([]);
  loaded = $state(false);

  async load(): Promise<void> {
    this.list = await api.views();
    this.loaded = true;
  }

  get builtin(): SavedView[] {
    return this.list.filter((v) => v.builtin);
  }

  get own(): SavedView[] {
    return this.list.filter((v) => !v.builtin);
  }

  byId(id: string | null): SavedView | undefined {
    return id === null ? undefined : this.list.find((v) => v.id === id);
  }

  async save(view: SavedView): Promise<void> {
    this.list = await api.viewSave(view);
  }

  async delete(id: string): Promise<void> {
    this.list = await api.viewDelete(id);
  }
}
